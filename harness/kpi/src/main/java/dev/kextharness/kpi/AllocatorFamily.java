package dev.kextharness.kpi;

/**
 * The allocator family a KPI function allocates from or frees to: what it allocates must be freed
 * by the same family (a {@code _MALLOC} by {@code _FREE}, a {@code kalloc} by {@code kfree}).
 *
 * <p>Stability: stable.
 */
public enum AllocatorFamily {
    /** Neither allocates nor frees. */
    NONE,
    MALLOC,
    MALLOC_ZONE,
    KALLOC,
    OSMALLOC,
    OSMALLOC_TAG,
    IOMALLOC,
    IOMALLOC_ALIGNED,
    IOMALLOC_CONTIGUOUS,
    IOMALLOC_PAGEABLE
}
