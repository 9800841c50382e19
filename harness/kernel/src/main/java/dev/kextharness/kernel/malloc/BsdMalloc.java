package dev.kextharness.kernel.malloc;

import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;

/**
 * The BSD allocator of xnu-6153 (bsd/kern/kern_malloc.c) as kexts see it: {@code _MALLOC} is a
 * straight kalloc of the requested size (no header since Sierra) and {@code _FREE} recovers the
 * size from the address with {@code kfree_addr}.
 */
public final class BsdMalloc {
    public static final int M_NOWAIT = 0x0001;
    public static final int M_ZERO = 0x0004;
    public static final int M_NULL = 0x0008;
    /** {@code M_LAST}: types at or above it panic. */
    public static final int M_LAST = 129;

    /** kmzones kinds for the kext-visible types (bsd/kern/kern_malloc.c). */
    private static final int M_PCB = 4;
    private static final int M_RTABLE = 5;
    private static final int M_LOCKF = 40;

    private final Kalloc kalloc;
    private final Zalloc zalloc;
    private final SparseMemory memory;
    private final Panicker panicker;
    /** The "mbuf" zone (MSIZE = 256) that M_RTABLE shares. */
    private final Zone mbufZone;

    public BsdMalloc(Kalloc kalloc, Zalloc zalloc, SparseMemory memory, Panicker panicker) {
        this.kalloc = kalloc;
        this.zalloc = zalloc;
        this.memory = memory;
        this.panicker = panicker;
        this.mbufZone = zalloc.zinit(256, 256, 256, "mbuf");
    }

    /** {@code _MALLOC(size, type, flags)}. */
    public long malloc(long size, int type, int flags, int site) {
        if (type < 0 || type >= M_LAST) {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 585, site, "_malloc TYPE");
        }
        if (size == 0) {
            return 0;
        }
        boolean canBlock = (flags & M_NOWAIT) == 0;
        long addr = kalloc.kalloc(size, canBlock, site);
        if (addr == 0) {
            if (!canBlock || (flags & M_NULL) != 0) {
                return 0;
            }
            throw panicker.kernel("bsd/kern/kern_malloc.c", 615, site,
                    CFormat.format("_MALLOC: kalloc returned NULL (potential leak), size %llu", size));
        }
        if ((flags & M_ZERO) != 0) {
            memory.fill(addr, size, 0);
        }
        return addr;
    }

    /** {@code _FREE(addr, type)}: NULL is a no-op. */
    public void free(long addr, int type, int site) {
        if (type < 0 || type >= M_LAST) {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 635, site, "_free TYPE");
        }
        if (addr == 0) {
            return;
        }
        kalloc.kfreeAddr(addr, site);
    }

    /**
     * {@code _MALLOC_ZONE(size, type, flags)}: the type's own zone when {@code size} is exactly its
     * element size, else kalloc. Of the kext-visible types only M_RTABLE (the shared "mbuf" zone)
     * and M_PCB (a kalloc zone looked up by size) have zones; M_LOCKF's size is -1; the rest are
     * plain-malloc types, which _MALLOC_ZONE refuses.
     */
    public long mallocZone(long size, int type, int flags, int site) {
        if (type < 0 || type >= M_LAST) {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 714, site, "_malloc_zone TYPE");
        }
        if (type == M_LOCKF) {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 724, site, "_malloc_zone XXX");
        }
        boolean canBlock = (flags & M_NOWAIT) == 0;
        long addr;
        if (type == M_RTABLE && size == mbufZone.elemSize()) {
            addr = zalloc.zalloc(mbufZone, site, size, canBlock);
        } else if (type == M_RTABLE || type == M_PCB) {
            addr = kalloc.kalloc(size, canBlock, site);
        } else {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 719, site,
                    CFormat.format("_malloc_zone ZONE: type = %d", type));
        }
        if (addr != 0 && (flags & M_ZERO) != 0) {
            memory.fill(addr, size, 0);
        }
        return addr;
    }

    /** {@code _FREE_ZONE(elem, size, type)}: the type's zone when the size matches, else kfree. */
    public void freeZone(long elem, long size, int type, int site) {
        if (type < 0 || type >= M_LAST) {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 760, site, "FREE_SIZE");
        }
        if (type == M_LOCKF) {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 770, site, "FREE_SIZE XXX");
        }
        if (type != M_RTABLE && type != M_PCB) {
            throw panicker.kernel("bsd/kern/kern_malloc.c", 765, site, "free_zone ZONE");
        }
        if (type == M_RTABLE && size == mbufZone.elemSize()) {
            zalloc.checkFree(mbufZone, elem, site);
            zalloc.zfreeChecked(mbufZone, elem, site);
        } else {
            kalloc.kfree(elem, size, site);
        }
    }
}
