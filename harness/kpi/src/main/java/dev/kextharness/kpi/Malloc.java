package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.BSD;

/**
 * {@code <sys/malloc.h>}: the BSD allocator as XNU exports it to kexts ({@code BSDKernel.exports}).
 * {@code _REALLOC} is deliberately absent: XNU does not export it, so a kext that wants it writes
 * its own on top of {@code _MALLOC} and {@code _FREE}.
 *
 * <p>Stability: stable.
 */
public final class Malloc {
    private Malloc() {
    }

    /** Blocking allocation (the default). */
    public static final int M_WAITOK = 0x0000;
    /** Do not block: NULL for any size above 16384, or when the zone would have to grow. */
    public static final int M_NOWAIT = 0x0001;
    /** Zero the requested bytes. */
    public static final int M_ZERO = 0x0004;
    /** Return NULL instead of panicking when a blocking allocation fails. */
    public static final int M_NULL = 0x0008;

    public static final int M_PCB = 4;
    public static final int M_RTABLE = 5;
    public static final int M_IFADDR = 9;
    public static final int M_SONAME = 11;
    public static final int M_LOCKF = 40;
    /** "temp": plain kalloc, no zone of its own. */
    public static final int M_TEMP = 80;
    public static final int M_UDFNODE = 84;
    public static final int M_UDFMNT = 85;
    public static final int M_KAUTH = 100;

    /** {@code void *_MALLOC(size_t size, int type, int flags)}. */
    @Kpi(library = BSD, family = AllocatorFamily.MALLOC, failable = true)
    public static long _MALLOC(long size, int type, int flags) {
        throw Unlinked.call("_MALLOC");
    }

    /** {@code void _FREE(void *addr, int type)}: the size comes from the address. */
    @Kpi(library = BSD, family = AllocatorFamily.MALLOC)
    public static void _FREE(long addr, int type) {
        throw Unlinked.call("_FREE");
    }

    /** {@code void *_MALLOC_ZONE(size_t size, int type, int flags)}. */
    @Kpi(library = BSD, family = AllocatorFamily.MALLOC_ZONE, failable = true)
    public static long _MALLOC_ZONE(long size, int type, int flags) {
        throw Unlinked.call("_MALLOC_ZONE");
    }

    /** {@code void _FREE_ZONE(void *elem, size_t size, int type)}. */
    @Kpi(library = BSD, family = AllocatorFamily.MALLOC_ZONE)
    public static void _FREE_ZONE(long elem, long size, int type) {
        throw Unlinked.call("_FREE_ZONE");
    }
}
