package dev.kextharness.kernel.zalloc;

import dev.kextharness.kernel.vm.AddressSpace;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The zone map: the submap of kernel_map that every zone grows into, with XNU's capacity rule.
 * Its page table finds the chunk that owns any address by arithmetic ({@code (addr - base) >> 12}),
 * in segments allocated only where chunks exist, so a 12 GiB map costs nothing until used.
 */
final class ZoneMap {
    private static final int SEGMENT_SHIFT = 16;
    private static final int SEGMENT_MASK = (1 << SEGMENT_SHIFT) - 1;

    final long base;
    final long capacity;
    private final ZoneChunk[][] pageTable;
    /**
     * Ranges returned by zone GC, by size, reused before fresh space; a larger one is split when
     * no range of the size asked is left. Neighbouring ranges are not merged, so a chunk of
     * several pages can fail while single free pages remain (the source article's panic came
     * while growing kalloc.12288, a zone of three-page chunks).
     */
    private final Map<Long, ArrayDeque<Long>> freeRanges = new HashMap<>();
    private long next;
    private long size;

    ZoneMap(long base, long capacity) {
        this.base = base;
        this.capacity = capacity;
        long pages = capacity >>> AddressSpace.PAGE_SHIFT;
        this.pageTable = new ZoneChunk[(int) ((pages + SEGMENT_MASK) >>> SEGMENT_SHIFT)][];
        this.next = base;
    }

    /** {@code CONFIG_ZONE_MAP_MIN}: 115 MiB. */
    static final long ZONE_MAP_MIN = 120586240L;
    /** The largest zone map: what a 256 GiB Mac gets, and all the harness's address layout has room for. */
    static final long ZONE_MAP_MAX = AddressSpace.ZONE_MAP_MAX;

    /** {@code zone_map_capacity = physmem/4 x 1.5}, capped at 64 GiB, clamped to [115 MiB, physmem/2]. */
    static long capacityFor(long physicalMemory) {
        return clamp(Math.min(physicalMemory / 4 * 3 / 2, ZONE_MAP_MAX), physicalMemory);
    }

    /**
     * The capacity for the {@code zsize} boot-arg: vm_init.c clamps it as it clamps the derived
     * size, to at least {@code CONFIG_ZONE_MAP_MIN} and at most half the physical memory (and
     * the harness keeps it within 64 GiB).
     */
    static long capacityFor(long physicalMemory, long zsize) {
        return clamp(Math.min(AddressSpace.roundPage(zsize), ZONE_MAP_MAX), physicalMemory);
    }

    private static long clamp(long zsize, long physicalMemory) {
        zsize = Math.max(zsize, ZONE_MAP_MIN);
        zsize = Math.min(zsize, physicalMemory / 2);
        return AddressSpace.truncPage(zsize);
    }

    /** Maps {@code length} bytes for a new chunk; returns 0 when the map is full ({@code KERN_NO_SPACE}). */
    long allocate(long length) {
        if (size + length > capacity) {
            return 0;
        }
        ArrayDeque<Long> reusable = freeRanges.get(length);
        long addr;
        if (reusable != null && !reusable.isEmpty()) {
            addr = reusable.pop();
        } else if (next - base + length <= capacity) {
            addr = next;
            next += length;
        } else {
            addr = carve(length);
            if (addr == 0) {
                return 0; // no hole that large: KERN_NO_SPACE, whatever the free pages add up to
            }
        }
        size += length;
        return addr;
    }

    /** Takes {@code length} bytes from the front of a larger free range, as vm_map_find_space would. */
    private long carve(long length) {
        for (Map.Entry<Long, ArrayDeque<Long>> e : freeRanges.entrySet()) {
            long hole = e.getKey();
            if (hole > length && !e.getValue().isEmpty()) {
                long addr = e.getValue().pop();
                freeRanges.computeIfAbsent(hole - length, k -> new ArrayDeque<>()).push(addr + length);
                return addr;
            }
        }
        return 0;
    }

    void release(long addr, long length) {
        freeRanges.computeIfAbsent(length, k -> new ArrayDeque<>()).push(addr);
        size -= length;
    }

    void map(ZoneChunk chunk, long length) {
        forEachPage(chunk.base, length, chunk);
    }

    void unmap(long addr, long length) {
        forEachPage(addr, length, null);
    }

    private void forEachPage(long addr, long length, ZoneChunk owner) {
        long first = (addr - base) >>> AddressSpace.PAGE_SHIFT;
        long last = (addr + length - 1 - base) >>> AddressSpace.PAGE_SHIFT;
        for (long page = first; page <= last; page++) {
            int segment = (int) (page >>> SEGMENT_SHIFT);
            ZoneChunk[] table = pageTable[segment];
            if (table == null) {
                table = pageTable[segment] = new ZoneChunk[1 << SEGMENT_SHIFT];
            }
            table[(int) (page & SEGMENT_MASK)] = owner;
        }
    }

    /** The chunk whose pages hold {@code addr}, or null if no zone owns it. */
    ZoneChunk chunkAt(long addr) {
        long offset = addr - base;
        if (offset < 0 || offset >= capacity) {
            return null;
        }
        ZoneChunk[] table = pageTable[(int) (offset >>> (AddressSpace.PAGE_SHIFT + SEGMENT_SHIFT))];
        return table == null ? null : table[(int) ((offset >>> AddressSpace.PAGE_SHIFT) & SEGMENT_MASK)];
    }

    boolean contains(long addr) {
        long offset = addr - base;
        return offset >= 0 && offset < capacity;
    }

    /** {@code zone_map->size}: bytes mapped now. */
    long size() {
        return size;
    }
}
