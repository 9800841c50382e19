package dev.kextharness.samples;

import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Ledger;

import java.util.ArrayList;
import java.util.List;

/** The call sites a kext's code has reached, as the linker registered them in a kernel's ledger. */
public final class CallSites {
    private CallSites() {
    }

    /** Every registered call of {@code function} (a KPI function name) by the kext with this load tag. */
    public static List<CallSite> of(Ledger ledger, int loadTag, String function) {
        List<CallSite> sites = new ArrayList<>();
        for (int id = 0; id < ledger.siteCount(); id++) {
            CallSite site = ledger.site(id);
            if (site.loadTag() == loadTag && site.function().equals(function)) {
                sites.add(site);
            }
        }
        return sites;
    }
}
