package dev.kextharness.bench.ring;

import static dev.kextharness.kpi.Kalloc.kalloc;
import static dev.kextharness.kpi.Kalloc.kfree;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/**
 * The kext of {@link dev.kextharness.bench.KextKallocBenchmark}: a ring of live kalloc blocks
 * that it cycles with {@code kfree} and {@code kalloc}, each call linked at load like any kext's.
 * Its stop frees whatever the ring holds, so the kext unloads clean.
 */
@KextBundle(id = "dev.kextharness.bench.ring", version = "1.0", libraries = {KextBundle.KPI_UNSUPPORTED})
public class RingKext implements Kext, KallocRing {
    private int[] sizes = new int[0];
    private long[] ring = new long[0];
    private int[] ringSizes = new int[0];
    private int cursor;

    @Override
    public int start(KmodInfo ki, long data) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long data) {
        drain();
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public boolean fill(int[] sequence, int live) {
        drain();
        sizes = sequence.clone();
        ring = new long[live];
        ringSizes = new int[live];
        for (int i = 0; i < live; i++) {
            long addr = kalloc(sizes[i]);
            if (addr == 0) {
                drain();
                return false;
            }
            ring[i] = addr;
            ringSizes[i] = sizes[i];
        }
        cursor = live;
        return true;
    }

    @Override
    public long run(int pairs) {
        int ringMask = ring.length - 1;
        int sequenceMask = sizes.length - 1;
        long addr = 0;
        for (int i = 0; i < pairs; i++) {
            int slot = cursor & ringMask;
            kfree(ring[slot], ringSizes[slot]);
            int size = sizes[cursor & sequenceMask];
            addr = kalloc(size);
            ring[slot] = addr;
            ringSizes[slot] = size;
            cursor++;
        }
        return addr;
    }

    @Override
    public long block(int slot) {
        return ring[slot];
    }

    @Override
    public int nextSize() {
        return sizes[cursor & (sizes.length - 1)];
    }

    private void drain() {
        for (int i = 0; i < ring.length; i++) {
            if (ring[i] != 0) {
                kfree(ring[i], ringSizes[i]);
                ring[i] = 0;
            }
        }
    }
}
