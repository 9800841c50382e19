package com.example.kexts;

import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc._MALLOC;
import static dev.kextharness.kpi.Systm.printf;

/** The source article's kext-memleak: one byte allocated at start and never freed. */
@KextBundle(id = "cn.junkman.kext-memleak", version = "1.0")
public class MemleakKext implements Kext {
    private static long p;

    @Override
    public int start(KmodInfo ki, long d) {
        p = _MALLOC(1, M_TEMP, M_WAITOK);
        printf("kext-memleak: byte allocated %#llx\n", p);
        return KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        printf("kext-memleak: byte leaked %#llx\n", p); // forgot _FREE(p, M_TEMP)
        return KERN_SUCCESS;
    }
}
