package dev.kextharness.bench.cycle;

import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc.M_ZERO;
import static dev.kextharness.kpi.Malloc._FREE;
import static dev.kextharness.kpi.Malloc._MALLOC;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/**
 * The kext of {@link dev.kextharness.bench.KextCycleBenchmark}: the smallest kext that still
 * exercises the ledger, a start that allocates a zeroed 64-byte state block and a stop that frees it.
 */
@KextBundle(id = "dev.kextharness.bench.small", version = "1.0")
public class SmallKext implements Kext {
    private long state;

    @Override
    public int start(KmodInfo ki, long data) {
        state = _MALLOC(64, M_TEMP, M_WAITOK | M_ZERO);
        return state == 0 ? KernReturn.KERN_FAILURE : KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long data) {
        _FREE(state, M_TEMP);
        state = 0;
        return KernReturn.KERN_SUCCESS;
    }
}
