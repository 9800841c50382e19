package dev.kextharness.cli;

import dev.kextharness.kernel.Kernel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code load <kext>}: one kext's whole life in a fresh kernel, and the verdict as the exit status. */
@Command(name = "load", mixinStandardHelpOptions = true,
        description = {
                "Boot a kernel; load, start, exercise, stop and unload one kext; print the kernel log and the "
                        + "verdict (nothing outstanding, the leak report, or the panic log).",
                "The exit status says how it ended, so CI can use it like valgrind --error-exitcode."})
final class LoadCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<kext>",
            description = "A sample name (see Samples below), a fully qualified kext class name (with --classpath for "
                    + "your own), or a jar holding a kext class.")
    private String kext;

    @Option(names = "--twin", description = "Load the sample's balanced twin instead, which must unload clean.")
    private boolean twin;

    @Option(names = {"--classpath", "--cp"}, paramLabel = "<dir|jar>",
            description = "Where the kext class named by <kext> is compiled to.")
    private Path classpath;

    @Option(names = "--class", paramLabel = "<name>",
            description = "The kext class in the jar, when it holds more than one.")
    private String className;

    @Option(names = "--json", description = "Print the run as JSON: verdict, exit code, log, zone changes, report, panic.")
    private boolean json;

    @Mixin
    private KernelOptions kernelOptions;

    @Mixin
    private RunOutputs outputs;

    @Override
    public Integer call() {
        KextTarget target = new KextResolver(spec.commandLine()).resolve(kext, twin, classpath, className);
        outputs.suppressions(spec.commandLine());
        Kernel kernel = outputs.prepare(kernelOptions.boot(), spec.commandLine());
        KextRun run = KextRun.of(kernel, target, true);
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            var node = Json.object().put("schemaVersion", RunReport.SCHEMA_VERSION);
            node.setAll(RunReport.json(run));
            if (target.sample() != null) {
                node.put("rule", target.sample().rule());
            }
            if (outputs.genSuppressions) {
                node.put("generatedSuppressions", RunOutputs.generated(List.of(run)));
            }
            out.println(Json.write(node));
        } else {
            print(out, spec.commandLine().getColorScheme().ansi(), run);
            outputs.printGenerated(out, List.of(run));
        }
        out.flush();
        outputs.write(spec.commandLine(), "kext-harness load", List.of(ReportCase.of(run)));
        return run.verdict().exitCode();
    }

    private static void print(PrintWriter out, Ansi ansi, KextRun run) {
        KextTarget target = run.target();
        out.println(ansi.string("@|bold " + target.name() + "|@") + ": " + target.className());
        out.println("kernel log:");
        RunReport.printLog(out, run);
        out.println("zprint rows that changed (- before the load, + after the run):");
        RunReport.printZoneChanges(out, run);
        out.println("verdict: " + RunReport.verdictWord(ansi, run.verdict()));
        RunReport.printIndented(out, RunReport.verdictBody(run));
        if (target.sample() != null && !target.twin() && run.brokeARule()) {
            out.println("rule: " + target.sample().rule());
        }
    }
}
