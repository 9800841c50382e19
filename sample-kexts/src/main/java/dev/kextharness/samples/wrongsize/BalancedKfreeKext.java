package dev.kextharness.samples.wrongsize;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Kalloc.kfree;
import static dev.kextharness.kpi.Systm.printf;

/** The request kext balanced: kalloc and kfree take the size from one place, the current sizeof. */
@KextBundle(id = "dev.kextharness.samples.wrongsize", version = "1.1", libraries = {KextBundle.KPI_LIBKERN, KextBundle.KPI_UNSUPPORTED})
public class BalancedKfreeKext implements Kext {
    /** {@code sizeof(struct request)}, the only size there is. */
    static final int SIZEOF_REQUEST = 88;

    private static long request;

    @Override
    public int start(KmodInfo ki, long d) {
        request = kalloc(SIZEOF_REQUEST);
        printf("wrongsize: request allocated %p (%d bytes)\n", request, SIZEOF_REQUEST);
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        printf("wrongsize: freeing request %p with %d bytes\n", request, SIZEOF_REQUEST);
        kfree(request, SIZEOF_REQUEST);
        return KernReturn.KERN_SUCCESS;
    }
}
