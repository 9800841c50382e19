package dev.kextharness.kernel.kext;

/**
 * {@code <sys/malloc.h>} ({@link dev.kextharness.kpi.Malloc}): the BSD allocator.
 *
 * <p>Stability: internal.
 */
final class MallocKpi extends KextKpi {
    MallocKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long _MALLOC(long size, int type, int flags, int site) {
        enter();
        return kernel.malloc().malloc(size, type, flags, site);
    }

    public void _FREE(long addr, int type, int site) {
        enter();
        kernel.malloc().free(addr, type, site);
    }

    public long _MALLOC_ZONE(long size, int type, int flags, int site) {
        enter();
        return kernel.malloc().mallocZone(size, type, flags, site);
    }

    public void _FREE_ZONE(long elem, long size, int type, int site) {
        enter();
        kernel.malloc().freeZone(elem, size, type, site);
    }
}
