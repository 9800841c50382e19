package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Catalina;
import dev.kextharness.kernel.zalloc.Traps;
import dev.kextharness.kernel.zalloc.Zalloc;

/**
 * Kernel memory as kext code touches it. Every access is checked where it happens against what
 * is mapped and what state each byte's element or block is in, as ASan checks each byte: a wild
 * pointer page-faults as the hardware would; with the harness's findings on, an access into a
 * freed element or block, or past the requested size (even inside the bucket), stops the kext at
 * that line with a report naming the access, the allocation and the free, and what Catalina would
 * have done. In the XNU modes ({@code --no-findings}, {@code LeakPolicy.XNU}) such accesses go
 * through, and XNU's own checks catch what they catch, where they catch it.
 *
 * <p>Bulk operations check their whole range first, so a range beyond what is mapped faults
 * before a byte of it is written, and then work a page-sized run at a time.
 */
final class KextMemory {
    private final KextHost kernel;
    private final LoadedKext kext;
    private final SparseMemory memory;
    private final Zalloc zalloc;
    /** The kext runs under XNU's leak policy (its own, else the kernel's): one of the XNU modes. */
    private final boolean xnuPolicy;

    KextMemory(KextHost kernel, LoadedKext kext) {
        this.kernel = kernel;
        this.kext = kext;
        this.memory = kernel.memory();
        this.zalloc = kernel.zalloc();
        LeakPolicy policy = kext == null ? null : kext.options().leakPolicy();
        this.xnuPolicy = (policy != null ? policy : kernel.leakPolicy()) == LeakPolicy.XNU;
    }

    /** True when memory errors stop the kext at the access: findings on and a leak policy other than XNU's. */
    private boolean strict() {
        return !xnuPolicy && kernel.ledger().findingsEnabled();
    }

    long load(long addr, int width, int site) {
        check(addr, width, false, site);
        return memory.load(addr, width);
    }

    void store(long addr, int width, long value, int site) {
        check(addr, width, true, site);
        memory.storeChecked(addr, width, value);
    }

    /**
     * A locked add of {@code width} bytes at {@code addr}, checked as a write; returns the value
     * before, unsigned as {@link #load} reads it.
     */
    long fetchAndAdd(long addr, int width, long delta, int site) {
        check(addr, width, true, site);
        synchronized (memory) {
            long old = memory.load(addr, width);
            memory.storeChecked(addr, width, old + delta);
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
            memory.storeChecked(addr, width, update);
            return true;
        }
    }

    /** {@code bzero}, {@code memset}: the whole range checked, then filled a page-sized run at a time. */
    void fill(long addr, long length, int value, int site) {
        if (length == 0) {
            return;
        }
        check(addr, length, true, site);
        memory.fillChecked(addr, length, value);
    }

    /** {@code bcopy} (overlap allowed): both ranges checked, then copied a run at a time. */
    void copy(long src, long dst, long length, int site) {
        if (length == 0) {
            return;
        }
        check(src, length, false, site);
        check(dst, length, true, site);
        memory.copyChecked(src, dst, length);
    }

    /** Writes a C string's bytes and its NUL ({@code strlcpy}'s copy), checked as one write. */
    void storeString(long dst, byte[] bytes, int n, int site) {
        check(dst, n + 1L, true, site);
        for (int i = 0; i < n; i++) {
            memory.storeChecked(dst + i, 1, bytes[i]);
        }
        memory.storeChecked(dst + n, 1, 0);
    }

    /** Reads {@code length} bytes, checked as one read. */
    byte[] loadBytes(long addr, int length, int site) {
        byte[] bytes = new byte[length];
        if (length > 0) {
            check(addr, length, false, site);
            for (int i = 0; i < length; i++) {
                bytes[i] = (byte) memory.load8(addr + i);
            }
        }
        return bytes;
    }

    /** Writes {@code bytes}, checked as one write. */
    void storeBytes(long addr, byte[] bytes, int site) {
        if (bytes.length > 0) {
            check(addr, bytes.length, true, site);
            for (int i = 0; i < bytes.length; i++) {
                memory.storeChecked(addr + i, 1, bytes[i]);
            }
        }
    }

    /** Reads a NUL-terminated string (a {@code %s}, {@code strlen}), checking each byte as it is read. */
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
        if (zalloc.inZoneMap(addr)) {
            Zalloc.Access access = zalloc.access(addr, length, write, strict());
            if (access != Zalloc.Access.OK) {
                throw zoneError(access, addr, length, write, site);
            }
            return;
        }
        checkBlock(addr, length, write, site);
    }

    private KernelPanic zoneError(Zalloc.Access access, long addr, long length, boolean write, int site) {
        if (access == Zalloc.Access.UNMAPPED) {
            return Traps.pageFault(kernel.panicker(), site, addr);
        }
        Zalloc.Element element = zalloc.element(addr);
        long offset = addr - element.address();
        String what = CFormat.format("%s of %lu bytes at %p", write ? "write" : "read", length, addr);
        String zone = element.zone().name();
        return switch (access) {
            case FREED -> kernel.panicker().harness(site, CFormat.format(
                            "use after free: %s, %ld bytes into the freed %lu-byte block %p in %s; ", what, offset,
                            element.requested(), element.address(), zone)
                            + sites(site, element.freeSite(), element.site(), element.requested()),
                    Catalina.useAfterFree(element.zone(), offset, length, write)
                            + " The harness stops at the access.");
            case PAST_REQUESTED -> kernel.panicker().harness(site, CFormat.format(
                            "out of bounds: %s runs %lu bytes past the %lu-byte block %p (in a %lu-byte element of %s); ",
                            what, offset + length - element.requested(), element.requested(), element.address(),
                            element.zone().elemSize(), zone)
                            + sites(site, -1, element.site(), element.requested()),
                    Catalina.pastRequested(element.zone()) + " The harness stops at the access.");
            default -> kernel.panicker().harness(site, CFormat.format(
                            "out of bounds: %s runs %lu bytes past the end of the %lu-byte element %p in %s; ", what,
                            offset + length - element.zone().elemSize(), element.zone().elemSize(), element.address(),
                            zone)
                            + sites(site, element.live() ? -1 : element.freeSite(), element.site(), element.requested()),
                    "Catalina has no such check: the write would silently corrupt the next element of " + zone
                            + ". The harness stops at the write.");
        };
    }

    /** An access outside the zone map: a large kalloc block, pageable or IOKit memory, or nothing. */
    private void checkBlock(long addr, long length, boolean write, int site) {
        Kalloc kalloc = kernel.kalloc();
        VmMap map = kalloc.mapFor(addr);
        VmMap.Entry entry = map.lookup(addr);
        if (entry == null || entry.kind == VmMap.Kind.KEXT) {
            Kalloc.FreedBlock freed = strict() ? kalloc.freedBlockAt(addr) : null;
            if (freed != null) {
                VmMap.Entry was = freed.entry();
                throw kernel.panicker().harness(site, CFormat.format(
                                "use after free: %s of %lu bytes at %p, %ld bytes into the freed %lu-byte block %p in %s; ",
                                write ? "write" : "read", length, addr, addr - was.start, was.requested, was.start,
                                map.name()) + sites(site, freed.freeSite(), was.site, was.requested),
                        "Catalina: kmem_free unmapped the block's pages, so the access page-faults (\"Kernel trap at "
                                + "..., type 14=page fault\"), unless the range was mapped again since. "
                                + "The harness stops at the access.");
            }
            throw Traps.pageFault(kernel.panicker(), site, addr);
        }
        long end = addr + length;
        if (Long.compareUnsigned(end, entry.end()) > 0 || Long.compareUnsigned(end, addr) < 0) {
            // The range leaves the block: the first byte past it faults if nothing is mapped there, before
            // any byte is written; if the next block is mapped, the access would run into it.
            if (!write || map.lookup(entry.end()) == null) {
                throw Traps.pageFault(kernel.panicker(), site, entry.end());
            }
            throw kernel.panicker().harness(site, CFormat.format(
                            "write of %lu bytes at %p runs %lu bytes past the end of the %lu-byte block %p in %s; ",
                            length, addr, end - entry.end(), entry.size, entry.start, map.name())
                            + sites(site, -1, entry.site, entry.requested),
                    "Catalina has no such check: the write would land in the block mapped next. "
                            + "The harness stops at the write.");
        }
        boolean userSized = entry.kind == VmMap.Kind.KALLOC || entry.kind == VmMap.Kind.PAGEABLE;
        if (userSized && strict() && Long.compareUnsigned(end, entry.start + entry.requested) > 0) {
            throw kernel.panicker().harness(site, CFormat.format(
                            "out of bounds: %s of %lu bytes at %p runs %lu bytes past the %lu-byte block %p "
                                    + "(%lu bytes mapped in %s); ", write ? "write" : "read", length, addr,
                            end - entry.start - entry.requested, entry.requested, entry.start, entry.size, map.name())
                            + sites(site, -1, entry.site, entry.requested),
                    "Catalina is silent: the block's pages are mapped to their end, and XNU keeps no requested size. "
                            + "The harness stops at the access.");
        }
    }

    /** "accessed at ...; freed by ... at ...; allocated by ...(n) at ...", ASan's three stacks in one line. */
    private String sites(int accessSite, int freeSite, int allocSite, long requested) {
        StringBuilder sb = new StringBuilder("accessed at ").append(location(accessSite));
        if (freeSite >= 0) {
            CallSite free = kernel.ledger().site(freeSite);
            sb.append("; freed by ").append(free.function()).append(" at ").append(free.location());
        }
        if (allocSite >= 0) {
            CallSite alloc = kernel.ledger().site(allocSite);
            sb.append("; allocated by ").append(alloc.function()).append('(').append(requested).append(") at ")
                    .append(alloc.location());
        }
        return sb.toString();
    }

    private String location(int site) {
        CallSite callSite = kernel.ledger().site(site);
        return callSite.function() + " at " + callSite.location();
    }
}
