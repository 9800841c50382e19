package dev.kextharness.cli.testkexts;

import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc._FREE;
import static dev.kextharness.kpi.Malloc._MALLOC;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/** Holds a block, double-frees another inside a catch-everything, and reports success. */
@KextBundle(id = "com.example.swallowing-start")
public class SwallowingStartKext implements Kext {
    private static long kept;

    @Override
    public int start(KmodInfo ki, long d) {
        kept = _MALLOC(32, M_TEMP, M_WAITOK);
        long p = _MALLOC(16, M_TEMP, M_WAITOK);
        _FREE(p, M_TEMP);
        try {
            _FREE(p, M_TEMP);
        } catch (Throwable t) {
            // dropped: the kernel has panicked all the same
        }
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        _FREE(kept, M_TEMP);
        return KernReturn.KERN_SUCCESS;
    }
}
