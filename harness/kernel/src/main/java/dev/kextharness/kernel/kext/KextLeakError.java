package dev.kextharness.kernel.kext;

import org.apiguardian.api.API;
import dev.kextharness.kernel.ledger.LeakReport;

/**
 * A kext unloaded with allocations (or port rights) outstanding under {@link LeakPolicy#FAIL}:
 * the test fails with the leak report as its message. Findings the report also holds are listed
 * in it; a kext with findings alone fails with {@link KextFindingError} instead.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class KextLeakError extends KextVerdictError {
    private static final long serialVersionUID = 1L;

    public KextLeakError(LeakReport report) {
        super(report);
    }
}
