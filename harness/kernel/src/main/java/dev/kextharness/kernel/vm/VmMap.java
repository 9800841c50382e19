package dev.kextharness.kernel.vm;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A vm_map: page-granular entries kept sorted by address, as XNU keeps them in a tree. Used for
 * the allocations that do not come from zones (kalloc large, pageable and contiguous memory, kext
 * executables). Addresses are handed out upwards, so a stale pointer does not alias a newer block
 * for as long as the map's range lasts; once the top is reached, freed ranges are used again
 * (first fit), as XNU does, so a map is full only when its entries really fill it.
 */
public final class VmMap {

    /**
     * What an entry holds; decides which free functions may release it. {@code PAGEABLE} is
     * {@code kmem_alloc_pageable} memory of kernel_map (OSMalloc's pageable tags); {@code IOPAGEABLE}
     * is memory of IOKit's pageable submaps (IOMallocPageable), which only IOFreePageable can find.
     */
    public enum Kind { KALLOC, KMEM, PAGEABLE, IOPAGEABLE, CONTIGUOUS, KEXT }

    /** One mapped range. {@code requested} and {@code site} are the ledger's view of it. */
    public static final class Entry {
        public final long start;
        public final long size;
        public final Kind kind;
        public final long requested;
        public final int site;
        /** Extra per-allocation datum (an OSMalloc tag, an IOKit variant's user size), or 0. */
        public final long aux;

        Entry(long start, long size, Kind kind, long requested, int site, long aux) {
            this.start = start;
            this.size = size;
            this.kind = kind;
            this.requested = requested;
            this.site = site;
            this.aux = aux;
        }

        public long end() {
            return start + size;
        }

        public boolean contains(long addr) {
            return Long.compareUnsigned(addr, start) >= 0 && Long.compareUnsigned(addr, end()) < 0;
        }
    }

    private final String name;
    /** The address of this map's {@code struct vm_map}, as printed in panic strings. */
    private final long structAddress;
    private final long min;
    private final long max;
    private final long capacity;
    private final TreeMap<Long, Entry> entries = new TreeMap<>(Long::compareUnsigned);
    private long next;
    private long size;

    public VmMap(String name, long structAddress, long min, long max, long capacity) {
        this.name = name;
        this.structAddress = structAddress;
        this.min = min;
        this.max = max;
        this.capacity = capacity;
        this.next = min;
    }

    /** Maps a page-rounded range, or returns null when the map has no room. */
    public synchronized Entry allocate(long size, long alignment, Kind kind, long requested, int site, long aux) {
        long rounded = AddressSpace.roundPage(size);
        long align = Math.max(AddressSpace.PAGE_SIZE, alignment);
        if (this.size + rounded > capacity || Long.compareUnsigned(rounded, max - min) > 0) {
            return null;
        }
        long start = (next + align - 1) & -align;
        if (!fits(start, rounded, max)) {
            start = firstFit(rounded, align);
            if (start == 0) {
                return null;
            }
        }
        Entry entry = new Entry(start, rounded, kind, requested, site, aux);
        entries.put(start, entry);
        if (Long.compareUnsigned(start + rounded, next) > 0) {
            next = start + rounded;
        }
        this.size += rounded;
        return entry;
    }

    /** True if {@code [start, start + length)} lies below {@code limit} without wrapping. */
    private boolean fits(long start, long length, long limit) {
        long end = start + length;
        return Long.compareUnsigned(start, min) >= 0 && Long.compareUnsigned(end, start) >= 0
                && Long.compareUnsigned(end, limit) <= 0;
    }

    /** The lowest aligned start of a free range of {@code length} bytes, or 0 if there is none. */
    private long firstFit(long length, long align) {
        long cursor = (min + align - 1) & -align;
        for (Entry e : entries.values()) {
            if (fits(cursor, length, e.start)) {
                return cursor;
            }
            if (Long.compareUnsigned(e.end(), cursor) > 0) {
                cursor = (e.end() + align - 1) & -align;
            }
        }
        return fits(cursor, length, max) ? cursor : 0;
    }

    /** The entry that contains {@code addr}, or null ({@code vm_map_lookup_entry}). */
    public synchronized Entry lookup(long addr) {
        Map.Entry<Long, Entry> floor = entries.floorEntry(addr);
        return floor != null && floor.getValue().contains(addr) ? floor.getValue() : null;
    }

    /** The entry that starts exactly at {@code addr}, or null. */
    public synchronized Entry entryAt(long addr) {
        return entries.get(addr);
    }

    /** Unmaps the entry; false if it was no longer mapped (another thread removed it first). */
    public synchronized boolean remove(Entry entry) {
        if (entries.remove(entry.start, entry)) {
            size -= entry.size;
            return true;
        }
        return false;
    }

    public boolean inRange(long addr) {
        return Long.compareUnsigned(addr, min) >= 0 && Long.compareUnsigned(addr, max) < 0;
    }

    /** The entries now, in address order (a copy: other threads may map and unmap meanwhile). */
    public synchronized List<Entry> entries() {
        return List.copyOf(entries.values());
    }

    public String name() {
        return name;
    }

    public long structAddress() {
        return structAddress;
    }

    /** Bytes currently mapped. */
    public synchronized long size() {
        return size;
    }

    public long capacity() {
        return capacity;
    }

    /** The fake address of an entry's {@code struct vm_map_entry}, for panic strings. */
    public long entryStructAddress(Entry entry) {
        return structAddress + 0x1000L + ((entry.start - min) >>> AddressSpace.PAGE_SHIFT) * 0x50L;
    }
}
