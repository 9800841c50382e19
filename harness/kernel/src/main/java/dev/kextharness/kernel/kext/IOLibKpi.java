package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.printf.CFormat;

/**
 * {@code <IOKit/IOLib.h>} ({@link dev.kextharness.kpi.IOLib}): the IOKit allocators and {@code IOLog}.
 *
 * <p>Stability: internal.
 */
final class IOLibKpi extends KextKpi {
    IOLibKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long IOMalloc(long size, int site) {
        enter();
        return kernel.iokit().ioMalloc(size, site);
    }

    public long IOMallocZero(long size, int site) {
        enter();
        return kernel.iokit().ioMallocZero(size, site);
    }

    public void IOFree(long address, long size, int site) {
        enter();
        kernel.iokit().ioFree(address, size, site);
    }

    public long IOMallocAligned(long size, long alignment, int site) {
        enter();
        return kernel.iokit().ioMallocAligned(size, alignment, site);
    }

    public void IOFreeAligned(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreeAligned(address, size, site);
    }

    public long IOMallocContiguous(long size, long alignment, long[] physicalAddress, int site) {
        enter();
        return kernel.iokit().ioMallocContiguous(size, alignment, physicalAddress, site);
    }

    public void IOFreeContiguous(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreeContiguous(address, size, site);
    }

    public long IOMallocPageable(long size, long alignment, int site) {
        enter();
        return kernel.iokit().ioMallocPageable(size, alignment, site);
    }

    public void IOFreePageable(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreePageable(address, size, site);
    }

    public void IOLog(String format, Object[] args, int site) {
        enter();
        kernel.log().append(CFormat.format(format, args, addr -> memory.cString(addr, site)));
    }
}
