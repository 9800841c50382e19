package dev.kextharness.kernel.kext;

import org.apiguardian.api.API;
import dev.kextharness.kernel.ledger.LeakReport;

/**
 * A kext's unload judged against it under {@link LeakPolicy#FAIL}: a test failure (hence an
 * {@link AssertionError}) carrying the report. {@link KextLeakError} when it left allocations or
 * port rights behind, {@link KextFindingError} when it only broke a pairing rule; catch this type
 * for either.
 */
@API(status = API.Status.STABLE, since = "0.1")
public abstract sealed class KextVerdictError extends AssertionError permits KextLeakError, KextFindingError {
    private static final long serialVersionUID = 1L;

    private final transient LeakReport report;

    KextVerdictError(LeakReport report) {
        super(report.render());
        this.report = report;
    }

    /** The whole verdict: outstanding allocations, held rights, findings, suppressions used. */
    public LeakReport report() {
        return report;
    }

    /** The verdict a report calls for: a leak error if anything was left behind, else a finding error. */
    public static KextVerdictError of(LeakReport report) {
        return report.hasLeaks() || report.hasHeldRights() ? new KextLeakError(report) : new KextFindingError(report);
    }
}
