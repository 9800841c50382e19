package dev.kextharness.kernel.kext;

/**
 * {@code <libkern/OSMalloc.h>} ({@link dev.kextharness.kpi.OSMalloc}): tagged allocation.
 *
 * <p>Stability: internal.
 */
final class OSMallocKpi extends KextKpi {
    OSMallocKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long OSMalloc_Tagalloc(String name, int flags, int site) {
        enter();
        return kernel.osmalloc().tagalloc(name, flags, site);
    }

    public void OSMalloc_Tagfree(long tag, int site) {
        enter();
        kernel.osmalloc().tagfree(tag, site);
    }

    public long OSMalloc(int size, long tag, int site) {
        enter();
        return kernel.osmalloc().osmalloc(size, tag, true, site);
    }

    public long OSMalloc_nowait(int size, long tag, int site) {
        enter();
        return kernel.osmalloc().osmalloc(size, tag, false, site);
    }

    public long OSMalloc_noblock(int size, long tag, int site) {
        enter();
        return kernel.osmalloc().osmalloc(size, tag, false, site);
    }

    public void OSFree(long addr, int size, long tag, int site) {
        enter();
        kernel.osmalloc().osfree(addr, size, tag, site);
    }
}
