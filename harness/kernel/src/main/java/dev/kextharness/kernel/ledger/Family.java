package dev.kextharness.kernel.ledger;

import dev.kextharness.kpi.AllocatorFamily;
import org.apiguardian.api.API;

/**
 * Allocator families: which KPI function allocated a block and which one must free it. A KPI
 * function's family is declared on its facade method ({@code @Kpi(family = ...)}). A free by
 * another family is a harness finding (XNU itself stays silent, since most of them end in kfree).
 */
@API(status = API.Status.STABLE, since = "0.1")
public enum Family {
    MALLOC("_MALLOC", "_FREE"),
    MALLOC_ZONE("_MALLOC_ZONE", "_FREE_ZONE"),
    KALLOC("kalloc", "kfree"),
    OSMALLOC("OSMalloc", "OSFree"),
    OSMALLOC_TAG("OSMalloc_Tagalloc", "OSMalloc_Tagfree"),
    IOMALLOC("IOMalloc", "IOFree"),
    IOMALLOC_ALIGNED("IOMallocAligned", "IOFreeAligned"),
    IOMALLOC_CONTIGUOUS("IOMallocContiguous", "IOFreeContiguous"),
    IOMALLOC_PAGEABLE("IOMallocPageable", "IOFreePageable"),
    /** The kernel's own allocations (boot, processes, background zone use). */
    KERNEL("kernel", "kernel"),
    /** A KPI function that neither allocates nor frees (printf, load8, ...). */
    NONE("", "");

    private final String allocator;
    private final String deallocator;

    Family(String allocator, String deallocator) {
        this.allocator = allocator;
        this.deallocator = deallocator;
    }

    /** The allocating function's name, as the report prints it. */
    public String allocator() {
        return allocator;
    }

    /** The function that must free this family's blocks. */
    public String deallocator() {
        return deallocator;
    }

    /**
     * Whether the family kallocs its blocks with a header and alignment slack (IOMallocAligned,
     * IOMallocContiguous): its kfree passes the padded size, not the caller's, so IOKit compares
     * the caller's size itself.
     */
    public boolean padded() {
        return this == IOMALLOC_ALIGNED || this == IOMALLOC_CONTIGUOUS;
    }

    /** The ledger's family of a KPI function's declared allocator family ({@code @Kpi(family = ...)}). */
    public static Family of(AllocatorFamily family) {
        return switch (family) {
            case NONE -> NONE;
            case MALLOC -> MALLOC;
            case MALLOC_ZONE -> MALLOC_ZONE;
            case KALLOC -> KALLOC;
            case OSMALLOC -> OSMALLOC;
            case OSMALLOC_TAG -> OSMALLOC_TAG;
            case IOMALLOC -> IOMALLOC;
            case IOMALLOC_ALIGNED -> IOMALLOC_ALIGNED;
            case IOMALLOC_CONTIGUOUS -> IOMALLOC_CONTIGUOUS;
            case IOMALLOC_PAGEABLE -> IOMALLOC_PAGEABLE;
        };
    }
}
