package dev.kextharness.kernel.zalloc;

import java.util.ArrayList;
import java.util.List;

/**
 * A Mach zone: elements of one size, carved from chunks of the zone map, with the counters zprint
 * shows. Created only through {@link Zalloc#zinit}, which applies XNU's size rules.
 */
public final class Zone {
    final String name;
    final long elemSize;
    final long allocSize;
    final int elemsPerChunk;
    long maxSize;
    /** XNU's {@code cur_size}: bytes of the elements carved from the zone's chunks, free ones included. */
    long curSize;
    /** Chunks whose elements are all free: what zone GC can give back. */
    int emptyChunks;
    long count;
    long sumCount;
    boolean exhaustible;
    boolean collectable = true;
    boolean expandable = true;
    boolean caching;
    boolean callerAcct = true;
    /** The zone's per-CPU cache, once caching is on (zcache_init); null otherwise. */
    dev.kextharness.kernel.zcache.ZoneCache cache;
    /** Where the zone's {@code struct zone} sits in {@code zone_array}. */
    long address;

    final List<ZoneChunk> chunks = new ArrayList<>();
    ZoneChunk partialHead;

    /** {@code ceil(2^40 / elemSize)}: an element index by a multiply and a shift instead of a division. */
    private final long reciprocal;

    Zone(String name, long elemSize, long allocSize, long maxSize) {
        this.name = name;
        this.elemSize = elemSize;
        this.allocSize = allocSize;
        this.elemsPerChunk = (int) (allocSize / elemSize);
        this.maxSize = maxSize;
        this.reciprocal = ((1L << RECIPROCAL_SHIFT) + elemSize - 1) / elemSize;
    }

    private static final int RECIPROCAL_SHIFT = 40;
    /** Offsets below this divide exactly by the reciprocal: offset x elemSize stays under 2^40 for any chunk. */
    private static final long RECIPROCAL_LIMIT = 1L << 20;

    /** {@code offset / elemSize} for an offset into a chunk: the element index, without a 64-bit division. */
    int indexOf(long offset) {
        // Exact while offset x (reciprocal x elemSize - 2^40) < 2^40, which offset < 2^20 and elemSize < 2^20 ensure.
        return offset < RECIPROCAL_LIMIT && elemSize < RECIPROCAL_LIMIT
                ? (int) ((offset * reciprocal) >>> RECIPROCAL_SHIFT)
                : (int) (offset / elemSize);
    }

    public String name() {
        return name;
    }

    public long elemSize() {
        return elemSize;
    }

    /** {@code alloc_size}: bytes the zone takes from the zone map each time it grows. */
    public long allocSize() {
        return allocSize;
    }

    public long maxSize() {
        return maxSize;
    }

    /**
     * XNU's {@code cur_size}: the bytes of every element carved from the zone's chunks, free ones
     * included (zcram adds {@code elem_size} per element, so a kalloc.48 page counts 85 x 48 =
     * 4080 bytes). The zone-map-exhaustion panic and its log lines print this, and the largest
     * zone is the one with the most.
     */
    public long curSize() {
        return curSize;
    }

    /** Bytes of zone map the zone's chunks take, whole pages (zprint's {@code mzi_cur_size}). */
    public long mappedBytes() {
        return (long) chunks.size() * allocSize;
    }

    /** Elements in use, as XNU counts them: elements in the zone's per-CPU caches included. */
    public long count() {
        return count;
    }

    /**
     * Elements held by callers: {@link #count()} less the elements waiting in the per-CPU caches.
     * Exact when no other thread is allocating from the zone.
     */
    public long liveCount() {
        return count - cachedElements();
    }

    /** Elements allocated over the zone's life. */
    public long totalAllocations() {
        return sumCount;
    }

    /** Bytes of free elements the zone holds (zprint's collectable/free size). */
    public long freeBytes() {
        return curSize - count * elemSize;
    }

    public boolean exhaustible() {
        return exhaustible;
    }

    public boolean collectable() {
        return collectable;
    }

    public boolean expandable() {
        return expandable;
    }

    /** Whether the zone has a per-CPU cache (zcache) on Catalina. */
    public boolean caching() {
        return caching;
    }

    /** The zone's per-CPU cache, or null. */
    public dev.kextharness.kernel.zcache.ZoneCache cache() {
        return cache;
    }

    /**
     * Elements sitting in the zone's per-CPU magazines and depot: in use as the zone counts
     * ({@link #count()}, zprint), free as the ledger does.
     */
    public long cachedElements() {
        return cache == null ? 0 : cache.cachedElements();
    }

    /** The address of the zone's {@code struct zone}, as zcache's panics print it. */
    public long address() {
        return address;
    }

    void linkPartial(ZoneChunk chunk) {
        chunk.prevPartial = null;
        chunk.nextPartial = partialHead;
        if (partialHead != null) {
            partialHead.prevPartial = chunk;
        }
        partialHead = chunk;
        chunk.inPartialList = true;
    }

    void unlinkPartial(ZoneChunk chunk) {
        if (chunk.prevPartial != null) {
            chunk.prevPartial.nextPartial = chunk.nextPartial;
        } else {
            partialHead = chunk.nextPartial;
        }
        if (chunk.nextPartial != null) {
            chunk.nextPartial.prevPartial = chunk.prevPartial;
        }
        chunk.nextPartial = null;
        chunk.prevPartial = null;
        chunk.inPartialList = false;
    }

    void addChunk(ZoneChunk chunk) {
        chunk.listIndex = chunks.size();
        chunks.add(chunk);
        curSize += (long) elemsPerChunk * elemSize;
        emptyChunks++;
        linkPartial(chunk);
    }

    void removeChunk(ZoneChunk chunk) {
        ZoneChunk last = chunks.remove(chunks.size() - 1);
        if (last != chunk) {
            chunks.set(chunk.listIndex, last);
            last.listIndex = chunk.listIndex;
        }
        if (chunk.inPartialList) {
            unlinkPartial(chunk);
        }
        curSize -= (long) elemsPerChunk * elemSize;
        emptyChunks--;
    }

    @Override
    public String toString() {
        return name;
    }
}
