package dev.kextharness.samples.wrongsize;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Kalloc.kfree;
import static dev.kextharness.kpi.Systm.printf;

/**
 * kfree with a stale size: the request structure grew from 72 to 88 bytes, start allocates the new
 * size (kalloc.96), but stop still frees with the old one, which picks kalloc.80. The size, not the
 * address, chooses the zone, so XNU catches the element being freed to the wrong zone and panics.
 */
@KextBundle(id = "dev.kextharness.samples.wrongsize", version = "1.0", libraries = {KextBundle.KPI_LIBKERN, KextBundle.KPI_UNSUPPORTED})
public class WrongZoneKfreeKext implements Kext {
    /** {@code sizeof(struct request)} before it grew: what the free path was written with. */
    static final int SIZEOF_REQUEST_V1 = 72;
    /** {@code sizeof(struct request)} now. */
    static final int SIZEOF_REQUEST_V2 = 88;

    private static long request;

    @Override
    public int start(KmodInfo ki, long d) {
        request = kalloc(SIZEOF_REQUEST_V2);
        printf("wrongsize: request allocated %p (%d bytes)\n", request, SIZEOF_REQUEST_V2);
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        printf("wrongsize: freeing request %p with %d bytes\n", request, SIZEOF_REQUEST_V1);
        kfree(request, SIZEOF_REQUEST_V1); // the stale sizeof: kalloc.80, not kalloc.96
        return KernReturn.KERN_SUCCESS;
    }
}
