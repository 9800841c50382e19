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

/**
 * The source article's bare-bone libkext demo: an INT_MAX allocation that must fail, one byte that
 * stop forgets to free, and {@code libkext_memck()} panicking at unload because of it.
 */
@KextBundle(id = "cn.junkman.kext-memleak", version = "1.0")
public class LibkextMemleakKext implements Kext {
    /** {@code <limits.h>}. */
    static final int INT_MAX = Integer.MAX_VALUE;

    private static long nil;
    private static long p;

    @Override
    public int start(KmodInfo ki, long d) {
        nil = libkext_malloc(INT_MAX, M_NOWAIT); // Should fail
        p = libkext_malloc(1, M_WAITOK);
        printf("kext-memleak: nil address %#llx\n", nil);
        printf("kext-memleak: byte allocated %#llx %#x\n", p, load8(p));
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        libkext_mfree(nil);
        // Say, you forget to free the p

        libkext_memck(); // Panic if memleaked
        printf("kext-memleak: byte leaked!!! %#llx %#x\n", p, load8(p));
        return KernReturn.KERN_SUCCESS;
    }
}
