package dev.kextharness.samples.memleak;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc._FREE;
import static dev.kextharness.kpi.Malloc._MALLOC;
import static dev.kextharness.kpi.Mem.load8;
import static dev.kextharness.kpi.Systm.printf;

/** kext-memleak with the missing _FREE in stop: the balanced twin. */
@KextBundle(id = "cn.junkman.kext-memleak", version = "1.1")
public class BalancedMemleakKext implements Kext {
    private static long p;

    @Override
    public int start(KmodInfo ki, long d) {
        p = _MALLOC(1, M_TEMP, M_WAITOK);
        printf("kext-memleak: byte allocated %#llx %#x\n", p, load8(p));
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        _FREE(p, M_TEMP);
        printf("kext-memleak: byte freed %#llx\n", p);
        return KernReturn.KERN_SUCCESS;
    }
}
