package dev.kextharness.kernel.zalloc;

/**
 * One chunk of a zone ({@code alloc_size} bytes of the zone map, carved into elements) and the
 * ledger's metadata for each element, found from an address by arithmetic:
 * {@code index = (addr - base) / elemSize}. Per element it costs six bytes: the call site that
 * allocated it (or, when free, the link to the next free element) and the requested size.
 */
final class ZoneChunk {
    final Zone zone;
    final long base;
    /** Allocated: the site id (>= 0). Free: {@code -2 - next}, so -1 ends the free list. */
    final int[] slot;
    final char[] requested;
    /** Per-element extra datum (an OSMalloc tag), allocated only when first needed. */
    long[] aux;
    int freeHead;
    int freeCount;
    /** Set once any page of the chunk has been written: until then no byte needs checking. */
    boolean touched;
    /** Position in the zone's chunk list, for O(1) removal. */
    int listIndex;
    ZoneChunk nextPartial;
    ZoneChunk prevPartial;
    boolean inPartialList;

    ZoneChunk(Zone zone, long base, int capacity) {
        this.zone = zone;
        this.base = base;
        this.slot = new int[capacity];
        this.requested = new char[capacity];
        for (int i = 0; i < capacity; i++) {
            slot[i] = -2 - (i + 1 < capacity ? i + 1 : -1);
        }
        this.freeHead = 0;
        this.freeCount = capacity;
    }

    int capacity() {
        return slot.length;
    }

    long address(int index) {
        return base + index * zone.elemSize;
    }

    boolean isAllocated(int index) {
        return slot[index] >= 0;
    }

    /** Takes the head of the free list; the caller knows one is free. */
    int pop(int site, long requestedSize) {
        int index = freeHead;
        freeHead = -2 - slot[index];
        slot[index] = site;
        requested[index] = (char) requestedSize;
        freeCount--;
        return index;
    }

    void push(int index) {
        slot[index] = -2 - freeHead;
        requested[index] = 0;
        if (aux != null) {
            aux[index] = 0;
        }
        freeHead = index;
        freeCount++;
    }

    long aux(int index) {
        return aux == null ? 0 : aux[index];
    }

    void setAux(int index, long value) {
        if (aux == null) {
            if (value == 0) {
                return;
            }
            aux = new long[slot.length];
        }
        aux[index] = value;
    }
}
