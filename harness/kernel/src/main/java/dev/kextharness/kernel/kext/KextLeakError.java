package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.ledger.LeakReport;

/**
 * A kext unloaded with allocations outstanding (or broke a pairing rule) under
 * {@link LeakPolicy#FAIL}: the test fails with the leak report as its message.
 */
public final class KextLeakError extends AssertionError {
    private static final long serialVersionUID = 1L;

    private final transient LeakReport report;

    public KextLeakError(LeakReport report) {
        super(report.render());
        this.report = report;
    }

    public LeakReport report() {
        return report;
    }
}
