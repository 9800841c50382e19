package com.example.kexts;

import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.KernReturn.KERN_RESOURCE_SHORTAGE;
import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.Malloc.M_NOWAIT;
import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc.M_ZERO;
import static dev.kextharness.kpi.Malloc._FREE;
import static dev.kextharness.kpi.Malloc._MALLOC;
import static dev.kextharness.kpi.Mem.load64;
import static dev.kextharness.kpi.Mem.store64;

/** Keeps a counter in kernel memory from start to stop, and frees everything it takes. */
@KextBundle(id = "com.example.kext-balanced", version = "1.0")
public class BalancedKext implements Kext, Counter {
    private static long counter;

    @Override
    public int start(KmodInfo ki, long d) {
        counter = _MALLOC(8, M_TEMP, M_WAITOK | M_ZERO);
        return counter == 0 ? KERN_RESOURCE_SHORTAGE : KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        _FREE(counter, M_TEMP);
        return KERN_SUCCESS;
    }

    @Override
    public long bump() {
        long event = _MALLOC(32, M_TEMP, M_NOWAIT); // a scratch record, freed at once
        if (event == 0) {
            return -1;
        }
        store64(counter, load64(counter) + 1);
        _FREE(event, M_TEMP);
        return load64(counter);
    }
}
