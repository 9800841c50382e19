package dev.kextharness.cli.ports;

import dev.kextharness.cli.ExitCodes;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.user.ProcessCrash;
import dev.kextharness.samples.ports.userland.ChromiumBrowser;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The port-leak story's browser, for the port commands: {@code --chromium leaking --tasks 500}
 * starts the article's browser (and its helper) and runs that many worker-thread tasks before the
 * command looks. A picocli mixin.
 */
public final class ChromiumOptions {

    /** Which Chromium build runs (lower case: picocli matches the option's values to these names). */
    public enum Build { leaking, fixed }

    @Option(names = "--chromium", paramLabel = "leaking|fixed",
            description = "Start the article's browser first: the leaking build (mach_thread_self() never "
                    + "deallocated) or the fixed one.")
    Build build;

    @Option(names = "--tasks", paramLabel = "<n>", defaultValue = "500",
            description = "Worker-thread tasks the browser runs before the command looks (default: ${DEFAULT-VALUE}).")
    int tasks;

    /** Starts the browser if asked and runs its tasks; returns it, or null. */
    ChromiumBrowser start(Kernel kernel) {
        if (build == null) {
            return null;
        }
        ChromiumBrowser browser = ChromiumBrowser.launch(kernel, build == Build.fixed);
        browser.runTasks(tasks);
        return browser;
    }

    /** Starts the browser if asked and runs its tasks; returns its crash, or null if it did not crash. */
    ProcessCrash startOrCrash(Kernel kernel) {
        try {
            start(kernel);
            return null;
        } catch (ProcessCrash crash) {
            return crash;
        }
    }

    /**
     * The crash report, then a line that says what follows was taken after the crash: a crash is the
     * news of the run, so it comes first, where a reader (or {@code head}) sees it.
     */
    static String crashBanner(ProcessCrash crash) {
        return crash.report().render().replace("\r\n", "\n").stripTrailing() + "\n\n"
                + String.format("=== %s [%d] crashed (exit status %d); what follows was taken after the crash ===%n",
                crash.report().process(), crash.report().pid(), ExitCodes.PROCESS_CRASHED).replace("\r\n", "\n");
    }

    /** A negative or absurd task count is a usage error. */
    void validate(CommandLine cl) {
        if (tasks < 0 || tasks > 10_000_000) {
            throw new ParameterException(cl,
                    "--tasks must be between 0 and 10000000, not " + tasks);
        }
    }
}
