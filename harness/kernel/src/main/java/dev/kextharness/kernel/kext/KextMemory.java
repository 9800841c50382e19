package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Traps;
import dev.kextharness.kernel.zalloc.Zalloc;

/**
 * Kernel memory as kext code touches it: every access is checked against what is mapped (a zone
 * chunk, a vm map entry), so a wild pointer page-faults as the hardware would. A write that runs
 * past the end of a live zone element or block is stopped by the harness (XNU would silently
 * corrupt the neighbour); a write to a freed element goes through, and the zone's poison check
 * catches it when the element is handed out again, as in XNU.
 */
final class KextMemory {
    private final KextHost kernel;
    private final SparseMemory memory;

    KextMemory(KextHost kernel) {
        this.kernel = kernel;
        this.memory = kernel.memory();
    }

    long load(long addr, int width, int site) {
        check(addr, width, false, site);
        return memory.load(addr, width);
    }

    void store(long addr, int width, long value, int site) {
        check(addr, width, true, site);
        memory.store(addr, width, value);
    }

    /**
     * A locked add of {@code width} bytes at {@code addr}, checked as a write; returns the value
     * before, unsigned as {@link #load} reads it.
     */
    long fetchAndAdd(long addr, int width, long delta, int site) {
        check(addr, width, true, site);
        synchronized (memory) {
            long old = memory.load(addr, width);
            memory.store(addr, width, old + delta);
            return old;
        }
    }

    /** A locked compare-and-swap of {@code width} bytes, checked as a write (as x86's cmpxchg is). */
    boolean compareAndSwap(long addr, int width, long expected, long update, int site) {
        check(addr, width, true, site);
        long mask = width == 8 ? -1L : (1L << (8 * width)) - 1;
        synchronized (memory) {
            if (memory.load(addr, width) != (expected & mask)) {
                return false;
            }
            memory.store(addr, width, update);
            return true;
        }
    }

    void fill(long addr, long length, int value, int site) {
        if (length == 0) {
            return;
        }
        check(addr, length, true, site);
        memory.fill(addr, length, value);
    }

    void copy(long src, long dst, long length, int site) {
        if (length == 0) {
            return;
        }
        check(src, length, false, site);
        check(dst, length, true, site);
        byte[] buffer = new byte[(int) length];
        for (int i = 0; i < length; i++) {
            buffer[i] = (byte) memory.load8(src + i);
        }
        for (int i = 0; i < length; i++) {
            memory.store8(dst + i, buffer[i]);
        }
    }

    /** Reads a NUL-terminated string, checking each byte is mapped. */
    String cString(long addr, int site) {
        StringBuilder sb = new StringBuilder();
        for (long a = addr; ; a++) {
            int c = (int) load(a, 1, site);
            if (c == 0) {
                return sb.toString();
            }
            sb.append((char) c);
        }
    }

    void check(long addr, long length, boolean write, int site) {
        Zalloc zalloc = kernel.zalloc();
        if (zalloc.inZoneMap(addr)) {
            Zalloc.Element element = zalloc.element(addr);
            if (element == null) {
                throw Traps.pageFault(kernel.panicker(), site, addr);
            }
            long end = element.address() + element.zone().elemSize();
            if (write && element.live() && addr + length > end) {
                CallSite owner = kernel.ledger().site(element.site());
                throw kernel.panicker().harness(site, CFormat.format(
                        "write of %lu bytes at %p runs %lu bytes past the end of the %lu-byte element %p in %s "
                                + "(allocated by %s at %s)", length, addr, addr + length - end,
                        element.zone().elemSize(), element.address(), element.zone().name(), owner.function(),
                        owner.location()),
                        "XNU has no such check: the write would silently corrupt the next element of "
                                + element.zone().name() + ". The harness stops at the write.");
            }
            return;
        }
        VmMap map = kernel.kalloc().mapFor(addr);
        VmMap.Entry entry = map.lookup(addr);
        if (entry == null || entry.kind == VmMap.Kind.KEXT) {
            throw Traps.pageFault(kernel.panicker(), site, addr);
        }
        if (addr + length > entry.end()) {
            if (write) {
                throw kernel.panicker().harness(site, CFormat.format(
                        "write of %lu bytes at %p runs %lu bytes past the end of the %lu-byte block %p in %s",
                        length, addr, addr + length - entry.end(), entry.size, entry.start, map.name()),
                        "XNU has no such check: the write would land in whatever is mapped next, or fault.");
            }
            throw Traps.pageFault(kernel.panicker(), site, entry.end());
        }
    }
}
