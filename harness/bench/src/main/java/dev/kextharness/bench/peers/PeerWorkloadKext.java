package dev.kextharness.bench.peers;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Kalloc.kfree;
import static dev.kextharness.kpi.Libkern.bcopy;
import static dev.kextharness.kpi.Libkern.memset;
import static dev.kextharness.kpi.Mem.store64;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/**
 * The kext of {@link PeerBench}: {@code kleak_bench.c} line by line on the KPI. {@code malloc}
 * is {@code kalloc}, {@code free} is {@code kfree} with the block's size (as kfree demands), the
 * 8-byte store is {@code Mem.store64}, the touch-all build's {@code memset} is the KPI's. Each
 * leak site of the C program is one call site here, so the leak verdict names as many sites.
 */
@KextBundle(id = "dev.kextharness.bench.peers", version = "1.0", libraries = {KextBundle.KPI_BSD,
        KextBundle.KPI_LIBKERN, KextBundle.KPI_MACH, KextBundle.KPI_IOKIT, KextBundle.KPI_UNSUPPORTED})
public class PeerWorkloadKext implements Kext, PeerWorkloads {
    private static final long[] MIX = {16, 32, 48, 64, 128, 256, 512, 1024, 4096};

    private long lcgState;
    private long allocs;
    private long frees;

    @Override
    public int start(KmodInfo ki, long data) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long data) {
        return KernReturn.KERN_SUCCESS;
    }

    private void reset() {
        lcgState = 0x2545F4914F6CDD1DL;
        allocs = 0;
        frees = 0;
    }

    /** The C program's {@code lcg31()}: Knuth's MMIX LCG, the high 31 bits. */
    private int lcg31() {
        lcgState = lcgState * 6364136223846793005L + 1442695040888963407L;
        return (int) (lcgState >>> 33);
    }

    private long mixSize() {
        return MIX[lcg31() % 9];
    }

    private static void touch(long p, long size, boolean touchAll) {
        if (touchAll) {
            memset(p, 0xA5, size);
        }
    }

    @Override
    public long operations() {
        return allocs + frees;
    }

    // W1 pairs

    @Override
    public long pairs(long n, boolean touchAll) {
        reset();
        long cs = 0;
        for (long i = 0; i < n; i++) {
            long size = mixSize();
            long p = kalloc(size);
            touch(p, size, touchAll);
            store64(p, i); // written once (first 8 bytes)
            kfree(p, size);
            cs += size;
        }
        allocs += n;
        frees += n;
        leakSiteA(334, touchAll);
        leakSiteB(333, touchAll);
        leakSiteC(333, touchAll);
        return cs;
    }

    private void leakSiteA(int n, boolean touchAll) {
        for (int i = 0; i < n; i++) {
            long p = kalloc(48);
            touch(p, 48, touchAll);
            store64(p, 0xA0000000L + i);
        }
        allocs += n;
    }

    private void leakSiteB(int n, boolean touchAll) {
        for (int i = 0; i < n; i++) {
            long p = kalloc(48);
            touch(p, 48, touchAll);
            store64(p, 0xB0000000L + i);
        }
        allocs += n;
    }

    private void leakSiteC(int n, boolean touchAll) {
        for (int i = 0; i < n; i++) {
            long p = kalloc(48);
            touch(p, 48, touchAll);
            store64(p, 0xC0000000L + i);
        }
        allocs += n;
    }

    // W2 churn

    @Override
    public long churn(long n, boolean touchAll) {
        reset();
        long[] slots = new long[WS];
        byte[] siteOf = new byte[WS];
        long[] sizeOf = new long[WS];
        long cs = 0;
        for (long op = 0; op < WS + n; op++) {
            int slot;
            if (op < WS) {
                slot = (int) op;
            } else {
                slot = lcg31() % WS;
                kfree(slots[slot], sizeOf[slot]);
                frees++;
            }
            long size = mixSize();
            int site = lcg31() & 1;
            long p = site == 0 ? churnSiteA(size, touchAll) : churnSiteB(size, touchAll);
            slots[slot] = p;
            siteOf[slot] = (byte) site;
            sizeOf[slot] = size;
            allocs++;
            cs = cs * 31 + size + site;
        }
        int[] kept = new int[2];
        for (int s = 0; s < WS; s++) {
            int site = siteOf[s];
            if (kept[site] < KEEP_PER_SITE) {
                kept[site]++; // leak it: forget the pointer
            } else {
                kfree(slots[s], sizeOf[s]);
                frees++;
            }
            slots[s] = 0;
        }
        return cs;
    }

    private static long churnSiteA(long size, boolean touchAll) {
        long p = kalloc(size);
        touch(p, size, touchAll);
        store64(p, 0xAAAA0000L + size);
        return p;
    }

    private static long churnSiteB(long size, boolean touchAll) {
        long p = kalloc(size);
        touch(p, size, touchAll);
        store64(p, 0xBBBB0000L + size);
        return p;
    }

    // W3 leakstorm

    @Override
    public long leakstorm(long n, boolean touchAll) {
        reset();
        for (long i = 0; i < n; i++) {
            long p = kalloc(48);
            touch(p, 48, touchAll);
            store64(p, i);
        }
        allocs += n;
        return n * 48;
    }

    // Bulk operations

    @Override
    public void bulk(long size, int rounds, boolean copy) {
        long from = kalloc(size);
        long to = kalloc(size);
        if (copy) {
            memset(from, 0x5a, size);
            for (int r = 0; r < rounds; r++) {
                bcopy(from, to, size);
            }
        } else {
            for (int r = 0; r < rounds; r++) {
                memset(from, 1 + r % 255, size);
            }
        }
        kfree(from, size);
        kfree(to, size);
    }
}
