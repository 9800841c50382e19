package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.IOKIT;

/**
 * {@code <IOKit/IOLib.h>}: the IOKit allocators and {@code IOLog}. {@code IOFree} and its variants
 * need the size that was allocated, as in XNU.
 *
 * <p>Stability: stable.
 */
public final class IOLib {
    private IOLib() {
    }

    /** {@code void *IOMalloc(vm_size_t size)}: kalloc underneath; NULL on failure, never panics. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC, failable = true)
    public static long IOMalloc(long size) {
        throw Unlinked.call("IOMalloc");
    }

    /** {@code void *IOMallocZero(vm_size_t size)}. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC, failable = true)
    public static long IOMallocZero(long size) {
        throw Unlinked.call("IOMallocZero");
    }

    /** {@code void IOFree(void *address, vm_size_t size)}. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC)
    public static void IOFree(long address, long size) {
        throw Unlinked.call("IOFree");
    }

    /** {@code void *IOMallocAligned(vm_size_t size, vm_offset_t alignment)}. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC_ALIGNED, failable = true)
    public static long IOMallocAligned(long size, long alignment) {
        throw Unlinked.call("IOMallocAligned");
    }

    /** {@code void IOFreeAligned(void *address, vm_size_t size)}. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC_ALIGNED)
    public static void IOFreeAligned(long address, long size) {
        throw Unlinked.call("IOFreeAligned");
    }

    /**
     * {@code void *IOMallocContiguous(vm_size_t size, vm_size_t alignment, IOPhysicalAddress *physicalAddress)};
     * pass {@code null} for a NULL {@code physicalAddress}, or a one-element array to receive it.
     */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC_CONTIGUOUS, failable = true)
    public static long IOMallocContiguous(long size, long alignment, long[] physicalAddress) {
        throw Unlinked.call("IOMallocContiguous");
    }

    /** {@code void IOFreeContiguous(void *address, vm_size_t size)}. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC_CONTIGUOUS)
    public static void IOFreeContiguous(long address, long size) {
        throw Unlinked.call("IOFreeContiguous");
    }

    /** {@code void *IOMallocPageable(vm_size_t size, vm_size_t alignment)}. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC_PAGEABLE, failable = true)
    public static long IOMallocPageable(long size, long alignment) {
        throw Unlinked.call("IOMallocPageable");
    }

    /** {@code void IOFreePageable(void *address, vm_size_t size)}. */
    @Kpi(library = IOKIT, family = AllocatorFamily.IOMALLOC_PAGEABLE)
    public static void IOFreePageable(long address, long size) {
        throw Unlinked.call("IOFreePageable");
    }

    /** {@code void IOLog(const char *format, ...)}: C format conversions. */
    @Kpi(library = IOKIT)
    public static void IOLog(String format, Object... args) {
        throw Unlinked.call("IOLog");
    }
}
