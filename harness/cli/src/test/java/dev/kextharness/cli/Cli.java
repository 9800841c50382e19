package dev.kextharness.cli;

import picocli.CommandLine.Help.Ansi;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the command line in-process with captured output, as a terminal-less user would see it. */
final class Cli {

    record Result(int exitCode, String out, String err) {
    }

    private Cli() {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = KextHarnessCli.commandLine(new PrintWriter(out), new PrintWriter(err), Ansi.OFF).execute(args);
        return new Result(exit, out.toString(), err.toString());
    }
}
