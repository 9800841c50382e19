package dev.kextharness.samples.wrongsize;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Kalloc.kfree;
import static dev.kextharness.kpi.Systm.printf;

/**
 * kfree with a stale size that happens to fall in the same bucket: the structure grew from 72 to 76
 * bytes, both sizes pick kalloc.80, so XNU frees the element silently. The bug is there all the
 * same (one more field and it panics, as {@link WrongZoneKfreeKext} does); the harness reports it.
 */
@KextBundle(id = "dev.kextharness.samples.wrongsize.samebucket", version = "1.0", libraries = {KextBundle.KPI_LIBKERN, KextBundle.KPI_UNSUPPORTED})
public class SameBucketKfreeKext implements Kext {
    /** {@code sizeof(struct request)} before it grew: what the free path was written with. */
    static final int SIZEOF_REQUEST_V1 = 72;
    /** {@code sizeof(struct request)} now: one more field, still under 80 bytes. */
    static final int SIZEOF_REQUEST_V2 = 76;

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
        kfree(request, SIZEOF_REQUEST_V1); // the stale sizeof, in the same bucket: XNU does not notice
        return KernReturn.KERN_SUCCESS;
    }
}
