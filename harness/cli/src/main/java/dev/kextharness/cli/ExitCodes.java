package dev.kextharness.cli;

/**
 * The exit statuses of {@code kext-harness}, so CI can use {@code load} the way it uses
 * {@code valgrind --error-exitcode}: distinct codes for a leak and for a panic.
 */
public final class ExitCodes {
    /** The kext unloaded clean (demo: every sample ended as its lesson says). */
    public static final int CLEAN = 0;
    /** The harness itself failed (a bug: please report it), or the demo saw an unexpected verdict. */
    public static final int SOFTWARE = 1;
    /** Bad command line: unknown kext or option, missing jar, malformed number. */
    public static final int USAGE = 2;
    /** The kext left allocations outstanding at unload, or broke a pairing rule (harness findings). */
    public static final int LEAK = 3;
    /** The simulated kernel panicked. */
    public static final int PANIC = 4;
    /** The kext failed to load or unload: a link error, or its start or stop routine failed. */
    public static final int LOAD_FAILED = 5;
    /**
     * A user process the command started crashed ({@code ports} and {@code port_tracer} with
     * {@code --chromium}: the browser ran out of port names); its crash report is printed first.
     */
    public static final int PROCESS_CRASHED = 6;

    /** The exit-status section of {@code load --help} (and of the top command's, the widest). */
    static final String[] LOAD_HELP = {
            "0:the kext unloaded clean",
            "1:internal error of the harness",
            "2:usage error (unknown kext or option, missing jar, bad number)",
            "3:leak: allocations outstanding at unload, or harness findings",
            "4:the simulated kernel panicked",
            "5:the kext failed to load or unload (link error, start or stop failed)",
    };

    /** The exit-status section of the report commands (zprint, kextstat, ioalloccount), which load kexts first. */
    static final String[] REPORT_HELP = {
            "0:the report was printed; every kext given with --load loaded (and, with --unload, unloaded clean)",
            "1:internal error of the harness",
            "2:usage error (unknown kext or option, missing jar, bad number)",
            "3:with --unload, a kext given with --load leaked or had harness findings",
            "4:the simulated kernel panicked while running the kexts given with --load",
            "5:a kext given with --load failed to load or unload",
    };

    /** The exit-status section of a command that only prints a report and judges no kext. */
    static final String[] REPORT_ONLY_HELP = {
            "0:the report was printed",
            "1:internal error of the harness",
            "2:usage error (unknown process or option, bad number)",
    };

    private ExitCodes() {
    }
}
