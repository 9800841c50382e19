package dev.kextharness.samples.memleak;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc._MALLOC;
import static dev.kextharness.kpi.Mem.load8;
import static dev.kextharness.kpi.Systm.printf;

/** The source article's _MALLOC leak: one byte allocated in start, never freed. */
@KextBundle(id = "cn.junkman.kext-memleak", version = "1.0")
public class MemleakKext implements Kext {
    private static long p;

    @Override
    public int start(KmodInfo ki, long d) {
        p = _MALLOC(1, M_TEMP, M_WAITOK);
        printf("kext-memleak: byte allocated %#llx %#x\n", p, load8(p));
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        printf("kext-memleak: byte leaked %#llx\n", p);
        return KernReturn.KERN_SUCCESS;
    }
}
