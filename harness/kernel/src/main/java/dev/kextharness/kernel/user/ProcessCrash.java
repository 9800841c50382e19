package dev.kextharness.kernel.user;

/**
 * A simulated user process crashed: thrown out of the call that killed it, carrying the crash
 * report CrashReporter would write. The kernel is unharmed; the process is gone.
 */
public final class ProcessCrash extends RuntimeException {
    private final transient CrashReport report;

    public ProcessCrash(CrashReport report) {
        super(report.process() + " [" + report.pid() + "] crashed in " + report.frames().get(0) + ": "
                + report.applicationSpecificInformation());
        this.report = report;
    }

    public CrashReport report() {
        return report;
    }
}
