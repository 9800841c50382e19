package dev.kextharness.kernel.kext;

import org.apiguardian.api.API;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.LeakReport;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A kext that left nothing behind but broke a pairing rule real XNU accepts silently (a free by
 * another family, a kfree of another size in the same bucket, an OID left registered), under
 * {@link LeakPolicy#FAIL}: its own failure type, so that a test or CI can tell a finding from a
 * leak. The message is the report; {@link #findings()} and {@link #sites()} give every call site
 * the findings know, the free and the allocation it frees.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
public final class KextFindingError extends KextVerdictError {
    private static final long serialVersionUID = 1L;

    public KextFindingError(LeakReport report) {
        super(report);
    }

    public List<Finding> findings() {
        return report().findings();
    }

    /** Every call site the findings name: each finding's own site, then the sites it relates to. */
    public List<CallSite> sites() {
        Set<CallSite> sites = new LinkedHashSet<>();
        for (Finding f : findings()) {
            if (f.site() != null) {
                sites.add(f.site());
            }
            sites.addAll(f.related());
        }
        return new ArrayList<>(sites);
    }
}
