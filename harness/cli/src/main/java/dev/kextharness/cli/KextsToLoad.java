package dev.kextharness.cli;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.samples.SampleCatalog;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The kexts a report command (zprint, kextstat, ioalloccount) loads before it reports, so the
 * report shows them: {@code --load memleak --load com.example.MyKext --classpath target/classes}.
 * A picocli mixin.
 */
final class KextsToLoad {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(names = {"-k", "--load"}, paramLabel = "<kext>",
            description = "Load, start and exercise this kext first (repeatable): a sample name, a class name "
                    + "(with --classpath) or a jar.")
    private List<String> kexts = new ArrayList<>();

    @Option(names = "--twin", description = "Load the balanced twins of the samples named by --load.")
    private boolean twin;

    @Option(names = {"--classpath", "--cp"}, paramLabel = "<dir|jar>",
            description = "Where the kext classes named by --load are compiled to.")
    private Path classpath;

    @Option(names = "--unload",
            description = "Also stop and unload them before reporting (with --leak-policy xnu, a leak stays in its "
                    + "zone, as on a Mac).")
    private boolean unload;

    /**
     * Loads the kexts into {@code kernel}, in order, and says on {@code err} how any run that did
     * not end clean ended.
     *
     * @return the exit status of the worst run (0 if every kext loaded, and unloaded clean if asked)
     */
    int loadInto(Kernel kernel, PrintWriter err) {
        KextResolver resolver = new KextResolver(mixee.commandLine());
        List<KextTarget> targets = new ArrayList<>();
        for (String kext : kexts) {
            targets.add(resolver.resolve(kext, twin && isSample(kext), classpath, null));
        }
        int status = ExitCodes.CLEAN;
        for (KextTarget target : targets) {
            if (kernel.panicked()) {
                err.println(mixee.qualifiedName() + ": " + target.name() + " not loaded: the kernel has panicked");
                continue;
            }
            KextRun run = KextRun.of(kernel, target, unload);
            if (run.verdict() == Verdict.LOAD_FAILED) {
                // Why, here: loaded alone in a fresh kernel it may well load (a bundle id already taken).
                err.println(mixee.qualifiedName() + ": " + target.name() + ": " + run.verdict().label() + ": "
                        + reason(run.failure().getMessage()));
                status = Math.max(status, run.verdict().exitCode());
            } else if (run.verdict() != Verdict.CLEAN) {
                err.println(mixee.qualifiedName() + ": " + target.name() + ": " + run.verdict().label()
                        + " (see: kext-harness load " + target.name().replace(" (twin)", " --twin") + ")");
                status = Math.max(status, run.verdict().exitCode());
            }
        }
        err.flush();
        return status;
    }

    /** A load or unload failure's message, its lines indented, without the kernel log it ends with. */
    private static String reason(String message) {
        int log = message.indexOf("\nKernel log:");
        return (log < 0 ? message : message.substring(0, log)).replace("\n", "\n  ");
    }

    private static boolean isSample(String kext) {
        return SampleCatalog.find(kext).isPresent();
    }
}
