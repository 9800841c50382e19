package dev.kextharness.kernel.kext;

/**
 * {@code <libkern/OSAtomic.h>} ({@link dev.kextharness.kpi.OSAtomic}) on a counter in kernel memory; the
 * forms on a Java counter are computed by the facade and never bound.
 *
 * <p>Stability: internal.
 */
final class OSAtomicKpi extends KextKpi {
    OSAtomicKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long OSIncrementAtomic64(long address, int site) {
        enter();
        return memory.fetchAndAdd(address, 8, 1, site);
    }

    public long OSDecrementAtomic64(long address, int site) {
        enter();
        return memory.fetchAndAdd(address, 8, -1, site);
    }

    public long OSAddAtomic64(long amount, long address, int site) {
        enter();
        return memory.fetchAndAdd(address, 8, amount, site);
    }

    public boolean OSCompareAndSwap64(long oldValue, long newValue, long address, int site) {
        enter();
        return memory.compareAndSwap(address, 8, oldValue, newValue, site);
    }

    public int OSIncrementAtomic(long address, int site) {
        enter();
        return (int) memory.fetchAndAdd(address, 4, 1, site);
    }

    public int OSDecrementAtomic(long address, int site) {
        enter();
        return (int) memory.fetchAndAdd(address, 4, -1, site);
    }

    public int OSAddAtomic(int amount, long address, int site) {
        enter();
        return (int) memory.fetchAndAdd(address, 4, amount, site);
    }

    public boolean OSCompareAndSwap(int oldValue, int newValue, long address, int site) {
        enter();
        return memory.compareAndSwap(address, 4, oldValue, newValue, site);
    }
}
