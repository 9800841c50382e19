package dev.kextharness.samples.slowleak;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Kalloc.kfree;
import static dev.kextharness.kpi.Systm.printf;

/** The slowleak kext with the fix of the Supplemental Update: each request frees its record when it completes. */
@KextBundle(id = "dev.kextharness.samples.slowleak", version = "1.1", libraries = {KextBundle.KPI_LIBKERN, KextBundle.KPI_UNSUPPORTED})
public class BalancedSlowLeakKext implements Kext, RequestService {
    private static long recordSize = SlowLeakKext.RECORD_SIZE;
    private static long handled;

    @Override
    public int start(KmodInfo ki, long data) {
        recordSize = data > 0 ? data : SlowLeakKext.RECORD_SIZE;
        printf("slowleak: started, %lu-byte request records\n", recordSize);
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public void handle(int requests) {
        for (int i = 0; i < requests; i++) {
            long record = kalloc(recordSize);
            if (record == 0) {
                return;
            }
            handled++;
            kfree(record, recordSize);
        }
    }

    @Override
    public long handled() {
        return handled;
    }

    @Override
    public int stop(KmodInfo ki, long data) {
        printf("slowleak: stopping after %llu requests\n", handled);
        return KernReturn.KERN_SUCCESS;
    }
}
