package dev.kextharness.samples.libkext;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Malloc.M_NOWAIT;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Mem.load8;
import static dev.kextharness.kpi.Systm.printf;
import static dev.kextharness.samples.libkext.Libkext.libkext_malloc;
import static dev.kextharness.samples.libkext.Libkext.libkext_memck;
import static dev.kextharness.samples.libkext.Libkext.libkext_mfree;

/** The libkext demo with p freed before {@code libkext_memck()}: the count is zero and unload is clean. */
@KextBundle(id = "cn.junkman.kext-memleak", version = "1.1")
public class BalancedLibkextKext implements Kext {
    private static long nil;
    private static long p;

    @Override
    public int start(KmodInfo ki, long d) {
        nil = libkext_malloc(LibkextMemleakKext.INT_MAX, M_NOWAIT); // Should fail
        p = libkext_malloc(1, M_WAITOK);
        printf("kext-memleak: nil address %#llx\n", nil);
        printf("kext-memleak: byte allocated %#llx %#x\n", p, load8(p));
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        libkext_mfree(nil);
        libkext_mfree(p);
        printf("kext-memleak: byte freed %#llx\n", p);

        libkext_memck(); // every block freed: returns quietly
        return KernReturn.KERN_SUCCESS;
    }
}
