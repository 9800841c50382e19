package dev.kextharness.bench.threads;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Kalloc.kfree;
import static dev.kextharness.kpi.Mem.store64;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/** A kext whose service keeps its blocks in the caller's frame: any number of threads may call it at once. */
@KextBundle(id = "dev.kextharness.bench.pairs", libraries = {KextBundle.KPI_LIBKERN, KextBundle.KPI_UNSUPPORTED})
public class PairsKext implements Kext, Pairs {
    /** Blocks each call keeps live. */
    public static final int LIVE = 64;

    @Override
    public int start(KmodInfo ki, long data) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long data) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public long run(long seed, int pairs) {
        long[] blocks = new long[LIVE];
        int[] sizes = new int[LIVE];
        long x = seed;
        for (int i = 0; i < LIVE; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            sizes[i] = 16 + (int) ((x >>> 33) % 1009);
            blocks[i] = kalloc(sizes[i]);
            store64(blocks[i], x);
        }
        for (int i = 0; i < pairs; i++) {
            int slot = i & (LIVE - 1);
            kfree(blocks[slot], sizes[slot]);
            x = x * 6364136223846793005L + 1442695040888963407L;
            sizes[slot] = 16 + (int) ((x >>> 33) % 1009);
            blocks[slot] = kalloc(sizes[slot]);
            store64(blocks[slot], x);
        }
        for (int i = 0; i < LIVE; i++) {
            kfree(blocks[i], sizes[i]);
        }
        return x;
    }
}
