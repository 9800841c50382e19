package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.LIBKERN;

/**
 * {@code <libkern/OSMalloc.h>}: tagged allocation. An {@code OSMallocTag} is the kernel address of
 * the tag structure (a kalloc.96 element), so a kext can read {@code tag->OSMT_refcnt} the way the
 * C does: {@code Mem.load32(tag + 16)}.
 *
 * <p>Stability: stable.
 */
public final class OSMalloc {
    private OSMalloc() {
    }

    /** All blocks wired. */
    public static final int OSMT_DEFAULT = 0x00;
    /** Blocks of a page or more are pageable; smaller ones wired. */
    public static final int OSMT_PAGEABLE = 0x01;

    /** {@code OSMallocTag OSMalloc_Tagalloc(const char *name, uint32_t flags)}. */
    @Kpi(library = LIBKERN, family = AllocatorFamily.OSMALLOC_TAG, failable = true)
    public static long OSMalloc_Tagalloc(String name, int flags) {
        throw Unlinked.call("OSMalloc_Tagalloc");
    }

    /** {@code void OSMalloc_Tagfree(OSMallocTag tag)}. */
    @Kpi(library = LIBKERN, family = AllocatorFamily.OSMALLOC_TAG)
    public static void OSMalloc_Tagfree(long tag) {
        throw Unlinked.call("OSMalloc_Tagfree");
    }

    /** {@code void *OSMalloc(uint32_t size, OSMallocTag tag)}; size is unsigned. */
    @Kpi(library = LIBKERN, family = AllocatorFamily.OSMALLOC, failable = true)
    public static long OSMalloc(int size, long tag) {
        throw Unlinked.call("OSMalloc");
    }

    /** {@code void *OSMalloc_nowait(uint32_t size, OSMallocTag tag)}. */
    @Kpi(library = LIBKERN, family = AllocatorFamily.OSMALLOC, failable = true)
    public static long OSMalloc_nowait(int size, long tag) {
        throw Unlinked.call("OSMalloc_nowait");
    }

    /** {@code void *OSMalloc_noblock(uint32_t size, OSMallocTag tag)}. */
    @Kpi(library = LIBKERN, family = AllocatorFamily.OSMALLOC, failable = true)
    public static long OSMalloc_noblock(int size, long tag) {
        throw Unlinked.call("OSMalloc_noblock");
    }

    /** {@code void OSFree(void *addr, uint32_t size, OSMallocTag tag)}. */
    @Kpi(library = LIBKERN, family = AllocatorFamily.OSMALLOC)
    public static void OSFree(long addr, int size, long tag) {
        throw Unlinked.call("OSFree");
    }
}
