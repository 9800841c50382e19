package dev.kextharness.kernel.kext;

/**
 * {@code <kern/kalloc.h>} ({@link dev.kextharness.kpi.Kalloc}): the kalloc buckets. {@code kalloc_noblock}
 * has no implementation: xnu-6153 exports it to no kext.
 *
 * <p>Stability: internal.
 */
final class KallocKpi extends KextKpi {
    KallocKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long kalloc(long size, int site) {
        enter();
        return kernel.kalloc().kalloc(size, true, site);
    }

    public void kfree(long data, long size, int site) {
        enter();
        kernel.kalloc().kfree(data, size, site);
    }
}
