package dev.kextharness.samples.slowleak;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Systm.printf;

/**
 * The 10.15.6 regression in miniature: every request allocates a small record (40 bytes, so
 * kalloc.48) to track it, and the completion path forgets to kfree it. Each request leaks 48 bytes
 * of zone map; nothing looks wrong until, days later, the zone map runs out.
 *
 * <p>The start routine's {@code data} argument, when nonzero, is the record size (the soak
 * command's {@code --zone} passes the bucket size). The record is counted, never written: unwritten
 * simulated memory costs nothing, which is what lets a soak hold 137 million of them.
 */
@KextBundle(id = "dev.kextharness.samples.slowleak", version = "1.0", libraries = {KextBundle.KPI_LIBKERN, KextBundle.KPI_UNSUPPORTED})
public class SlowLeakKext implements Kext, RequestService {
    /** A request record: queue links, request id, flags and a timestamp. */
    static final long RECORD_SIZE = 40;

    private static long recordSize = RECORD_SIZE;
    private static long handled;

    @Override
    public int start(KmodInfo ki, long data) {
        recordSize = data > 0 ? data : RECORD_SIZE;
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
            // The regression: the request completes here, and its record is never kfree'd.
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
