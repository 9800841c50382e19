package dev.kextharness.cli;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.ledger.Suppressions;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The options {@code load} and {@code demo} share for CI: a suppressions file, printing
 * suppressions for what a run found, and the verdicts as JUnit XML and SARIF files beside the
 * output. A picocli mixin.
 */
final class RunOutputs {

    @Option(names = "--suppressions", paramLabel = "<file>",
            description = "Accept the leaks and findings this file's suppressions match (Valgrind-like blocks: a name, "
                    + "then kind, kext, site, family); the report counts what each one took.")
    Path suppressionsFile;

    @Option(names = "--gen-suppressions", negatable = false,
            description = "After the verdict, print a suppression for each leak, held right and finding the run found, "
                    + "ready to paste into a --suppressions file.")
    boolean genSuppressions;

    @Option(names = "--junit-xml", paramLabel = "<file>",
            description = "Also write the verdict as JUnit XML (Surefire's layout), for CI test reports.")
    Path junitXml;

    @Option(names = "--sarif", paramLabel = "<file>",
            description = "Also write leaks, findings and panics as SARIF 2.1.0, located at their source lines, for "
                    + "code-review tools.")
    Path sarif;

    @Option(names = "--source-root", paramLabel = "<dir>", defaultValue = "src/main/java",
            description = "Where the kexts' sources live, relative to the repository root, for SARIF's file paths "
                    + "(default: ${DEFAULT-VALUE}).")
    String sourceRoot;

    private Suppressions suppressions;

    /** The suppressions file read once; a missing or malformed file is a usage error naming the line. */
    Suppressions suppressions(CommandLine commandLine) {
        if (suppressions == null) {
            try {
                suppressions = suppressionsFile == null ? Suppressions.none() : Suppressions.read(suppressionsFile);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(commandLine, "--suppressions: " + e.getMessage());
            }
        }
        return suppressions;
    }

    /** A kernel that judges unloads with the suppressions given. */
    Kernel prepare(Kernel kernel, CommandLine commandLine) {
        kernel.useSuppressions(suppressions(commandLine));
        return kernel;
    }

    /** The suppressions for what these runs found, or "" if they found nothing. */
    static String generated(List<KextRun> runs) {
        StringBuilder sb = new StringBuilder();
        for (KextRun run : runs) {
            LeakReport report = run.report();
            if (report != null) {
                String blocks = Suppressions.generate(report);
                if (!sb.toString().contains(blocks)) {
                    sb.append(blocks);
                }
            }
        }
        return sb.toString();
    }

    void printGenerated(PrintWriter out, List<KextRun> runs) {
        if (!genSuppressions) {
            return;
        }
        String blocks = generated(runs);
        out.println(blocks.isEmpty() ? "suppressions: the run found nothing to suppress"
                : "suppressions for what the run found (paste into a --suppressions file):");
        out.print(blocks);
    }

    /** Writes the JUnit XML and SARIF files asked for. */
    void write(CommandLine commandLine, String suite, List<ReportCase> cases) {
        if (junitXml != null) {
            writeFile(commandLine, "--junit-xml", junitXml, JunitXml.render(suite, cases));
        }
        if (sarif != null) {
            writeFile(commandLine, "--sarif", sarif, Sarif.render(cases, sourceRoot));
        }
    }

    private static void writeFile(CommandLine commandLine, String option, Path file, String content) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ParameterException(commandLine, option + ": cannot write " + file + " (" + e.getMessage()
                    + "); give a path in a writable directory");
        }
    }
}
