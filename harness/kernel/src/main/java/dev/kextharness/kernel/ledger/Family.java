package dev.kextharness.kernel.ledger;

import org.apiguardian.api.API;
import java.util.Map;

/**
 * Allocator families: which KPI function allocated a block and which one must free it. A free by
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

    private static final Map<String, Family> BY_FUNCTION = Map.ofEntries(
            Map.entry("_MALLOC", MALLOC), Map.entry("_FREE", MALLOC),
            Map.entry("_MALLOC_ZONE", MALLOC_ZONE), Map.entry("_FREE_ZONE", MALLOC_ZONE),
            Map.entry("kalloc", KALLOC), Map.entry("kalloc_noblock", KALLOC), Map.entry("kfree", KALLOC),
            Map.entry("OSMalloc", OSMALLOC), Map.entry("OSMalloc_nowait", OSMALLOC),
            Map.entry("OSMalloc_noblock", OSMALLOC), Map.entry("OSFree", OSMALLOC),
            Map.entry("OSMalloc_Tagalloc", OSMALLOC_TAG), Map.entry("OSMalloc_Tagfree", OSMALLOC_TAG),
            Map.entry("IOMalloc", IOMALLOC), Map.entry("IOMallocZero", IOMALLOC), Map.entry("IOFree", IOMALLOC),
            Map.entry("IOMallocAligned", IOMALLOC_ALIGNED), Map.entry("IOFreeAligned", IOMALLOC_ALIGNED),
            Map.entry("IOMallocContiguous", IOMALLOC_CONTIGUOUS), Map.entry("IOFreeContiguous", IOMALLOC_CONTIGUOUS),
            Map.entry("IOMallocPageable", IOMALLOC_PAGEABLE), Map.entry("IOFreePageable", IOMALLOC_PAGEABLE));

    /** The family a KPI function allocates or frees in; {@link #NONE} for the others. */
    public static Family ofFunction(String kpiFunction) {
        return BY_FUNCTION.getOrDefault(kpiFunction, NONE);
    }
}
