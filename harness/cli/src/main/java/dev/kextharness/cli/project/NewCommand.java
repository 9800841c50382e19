package dev.kextharness.cli.project;

import dev.kextharness.cli.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code new <bundle-id>}: a kext project that builds and passes its tests with {@code mvn verify}.
 * A picocli command rather than a Maven archetype: it runs from the launcher a user already has,
 * checks the bundle id as XNU would take it before writing anything, and writes the versions of
 * the harness that made it, with no archetype catalog or interactive prompts in between.
 */
@Command(name = "new", mixinStandardHelpOptions = true,
        description = {"Write a new kext project: a balanced kext (_MALLOC/_FREE and OSMalloc), its tests "
                + "(@KextTest, @FailEachAllocation, KextRules), a README and a Maven build that passes with "
                + "'mvn verify'.",
                "The names come from the bundle id: com.example.kext-hello gives the directory and artifact "
                        + "kext-hello, the group com.example, the package com.example.kext_hello and the class "
                        + "HelloKext."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:the project was written",
                "1:internal error of the harness, or the files could not be written",
                "2:usage error (not a bundle id, or the directory exists)"})
public final class NewCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(paramLabel = "<bundle-id>",
            description = "The kext's bundle identifier (CFBundleIdentifier), such as com.example.kext-hello.")
    private String bundleId;

    @Option(names = "--directory", paramLabel = "<dir>",
            description = "Where to write the project; it must not exist (default: the bundle id's last word, "
                    + "in the current directory).")
    private Path directory;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String command = spec.qualifiedName();
        ProjectNames names;
        try {
            names = ProjectNames.of(bundleId);
        } catch (IllegalArgumentException e) {
            return usageError(err, command, e.getMessage());
        }
        Path target = directory != null ? directory : Path.of(names.artifactId());
        if (Files.exists(target)) {
            return usageError(err, command, target + " already exists: remove it, or give another with --directory");
        }
        List<String> written;
        try {
            written = ProjectTemplate.of(names).writeTo(target);
        } catch (IOException e) {
            err.println(command + ": cannot write " + target + ": " + e);
            err.flush();
            return ExitCodes.SOFTWARE;
        }
        out.println("Wrote the kext " + names.bundleId() + " (" + names.javaPackage() + "." + names.kextClass()
                + ") to " + target + ":");
        written.forEach(file -> out.println("  " + file));
        out.println("Next: cd " + target + " && mvn verify");
        out.flush();
        return ExitCodes.CLEAN;
    }

    /** Bad input: one line naming what is wrong and what to do, status 2. */
    private static int usageError(PrintWriter err, String command, String problem) {
        err.println(command + ": " + problem);
        err.flush();
        return ExitCodes.USAGE;
    }
}
