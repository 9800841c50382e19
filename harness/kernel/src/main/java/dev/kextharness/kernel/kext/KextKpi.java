package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.printf.CFormat;

import java.nio.charset.StandardCharsets;

/**
 * The kernel side of the KPI for one loaded kext: where each linked call site of that kext lands.
 * For every function of the routed facade classes ({@code Malloc}, {@code OSMalloc},
 * {@code IOLib}, {@code Kalloc}, {@code Systm}, {@code Libkern}, {@code Mem}) there is a method
 * here of the same name and parameters plus a trailing {@code int site}: the call site id the
 * linker bound that call to. Every call first refuses a kernel that has panicked.
 */
public final class KextKpi {
    private final Kernel kernel;
    private final LoadedKext kext;
    private final KextMemory memory;

    public KextKpi(Kernel kernel, LoadedKext kext) {
        this.kernel = kernel;
        this.kext = kext;
        this.memory = new KextMemory(kernel);
    }

    public LoadedKext kext() {
        return kext;
    }

    private void enter() {
        kernel.checkAlive();
    }

    // <sys/malloc.h>

    public long _MALLOC(long size, int type, int flags, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.malloc().malloc(size, type, flags, site);
    }

    public void _FREE(long addr, int type, int site) {
        enter();
        kernel.malloc().free(addr, type, site);
    }

    public long _MALLOC_ZONE(long size, int type, int flags, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.malloc().mallocZone(size, type, flags, site);
    }

    public void _FREE_ZONE(long elem, long size, int type, int site) {
        enter();
        kernel.malloc().freeZone(elem, size, type, site);
    }

    // <libkern/OSMalloc.h>

    public long OSMalloc_Tagalloc(String name, int flags, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().tagalloc(name, flags, site);
    }

    public void OSMalloc_Tagfree(long tag, int site) {
        enter();
        kernel.osmalloc().tagfree(tag, site);
    }

    public long OSMalloc(int size, long tag, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().osmalloc(size, tag, true, site);
    }

    public long OSMalloc_nowait(int size, long tag, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().osmalloc(size, tag, false, site);
    }

    public long OSMalloc_noblock(int size, long tag, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().osmalloc(size, tag, false, site);
    }

    public void OSFree(long addr, int size, long tag, int site) {
        enter();
        kernel.osmalloc().osfree(addr, size, tag, site);
    }

    // <IOKit/IOLib.h>

    public long IOMalloc(long size, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMalloc(size, site);
    }

    public long IOMallocZero(long size, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMallocZero(size, site);
    }

    public void IOFree(long address, long size, int site) {
        enter();
        kernel.iokit().ioFree(address, size, site);
    }

    public long IOMallocAligned(long size, long alignment, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMallocAligned(size, alignment, site);
    }

    public void IOFreeAligned(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreeAligned(address, size, site);
    }

    public long IOMallocContiguous(long size, long alignment, long[] physicalAddress, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMallocContiguous(size, alignment, physicalAddress, site);
    }

    public void IOFreeContiguous(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreeContiguous(address, size, site);
    }

    public long IOMallocPageable(long size, long alignment, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
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

    // <kern/kalloc.h>

    public long kalloc(long size, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.kalloc().kalloc(size, true, site);
    }

    public long kalloc_noblock(long size, int site) {
        enter();
        if (kernel.faults().shouldFail(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.kalloc().kalloc(size, false, site);
    }

    public void kfree(long data, long size, int site) {
        enter();
        kernel.kalloc().kfree(data, size, site);
    }

    // <sys/systm.h>, <kern/debug.h>

    public int printf(String format, Object[] args, int site) {
        enter();
        String text = CFormat.format(format, args, addr -> memory.cString(addr, site));
        kernel.log().append(text);
        return text.length();
    }

    public void panic(String format, Object[] args, int site) {
        enter();
        throw kernel.panicker().kext(site, CFormat.format(format, args, addr -> memory.cString(addr, site)));
    }

    // <libkern/libkern.h>, <string.h>

    public void bzero(long s, long n, int site) {
        enter();
        memory.fill(s, n, 0, site);
    }

    public void bcopy(long src, long dst, long n, int site) {
        enter();
        memory.copy(src, dst, n, site);
    }

    public long memset(long s, int c, long n, int site) {
        enter();
        memory.fill(s, n, c, site);
        return s;
    }

    public long strlcpy(long dst, String src, long size, int site) {
        enter();
        byte[] bytes = src.getBytes(StandardCharsets.UTF_8);
        if (size > 0) {
            int n = (int) Math.min(bytes.length, size - 1);
            memory.check(dst, n + 1, true, site);
            for (int i = 0; i < n; i++) {
                kernel.memory().store8(dst + i, bytes[i]);
            }
            kernel.memory().store8(dst + n, 0);
        }
        return bytes.length;
    }

    public long strlen(long s, int site) {
        enter();
        return memory.cString(s, site).length();
    }

    // Pointer dereference

    public int load8(long addr, int site) {
        enter();
        return (int) memory.load(addr, 1, site);
    }

    public int load16(long addr, int site) {
        enter();
        return (int) memory.load(addr, 2, site);
    }

    public long load32(long addr, int site) {
        enter();
        return memory.load(addr, 4, site);
    }

    public long load64(long addr, int site) {
        enter();
        return memory.load(addr, 8, site);
    }

    public void store8(long addr, int value, int site) {
        enter();
        memory.store(addr, 1, value, site);
    }

    public void store16(long addr, int value, int site) {
        enter();
        memory.store(addr, 2, value, site);
    }

    public void store32(long addr, long value, int site) {
        enter();
        memory.store(addr, 4, value, site);
    }

    public void store64(long addr, long value, int site) {
        enter();
        memory.store(addr, 8, value, site);
    }
}
