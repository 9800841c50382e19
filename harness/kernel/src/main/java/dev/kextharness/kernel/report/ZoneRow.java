package dev.kextharness.kernel.report;

import java.util.Objects;

/**
 * One zone as {@code mach_memory_info()} reports it to zprint ({@code mach_zone_name_t} plus
 * {@code mach_zone_info_t}). Sizes are in bytes and read as unsigned, as zprint reads them.
 *
 * @param name        the zone name ({@code mzn_name}), e.g. {@code kalloc.48}
 * @param elemSize    element size ({@code mzi_elem_size})
 * @param curSize     bytes of the pages the zone holds, free elements included ({@code mzi_cur_size})
 * @param maxSize     the zone's maximum size ({@code mzi_max_size})
 * @param count       elements in use ({@code mzi_count})
 * @param allocSize   bytes the zone grows by at a time ({@code mzi_alloc_size})
 * @param sumSize     lifetime allocations times the element size ({@code mzi_sum_size})
 * @param freeBytes   bytes of free elements, the collectable bytes of {@code mzi_collectable}
 * @param exhaustible the zone may not grow past its maximum ({@code mzi_exhaustible}; flag X)
 * @param collectable the zone gives free pages back on GC (collectable flag; flag C)
 *
 * <p>Stability: stable.
 */
public record ZoneRow(String name, long elemSize, long curSize, long maxSize, long count,
        long allocSize, long sumSize, long freeBytes, boolean exhaustible, boolean collectable) {

    public ZoneRow {
        Objects.requireNonNull(name, "name");
    }
}
