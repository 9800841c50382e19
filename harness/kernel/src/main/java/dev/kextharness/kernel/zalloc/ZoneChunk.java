package dev.kextharness.kernel.zalloc;

/**
 * One chunk of a zone ({@code alloc_size} bytes of the zone map, carved into elements) and the
 * ledger's metadata for each element, found from an address by arithmetic:
 * {@code index = (addr - base) / elemSize}.
 *
 * <p>Per element it keeps two bytes: a link that says whether the element is allocated and, when
 * it is free, which free element comes next. Who allocated the live elements (call site and
 * requested size) is kept once for the whole chunk as long as they all agree, which they do for
 * a chunk filled by one call site, such as a leak's; the first element from another site or of
 * another size gives the chunk per-element arrays (six bytes more an element), which it keeps:
 * a chunk that mixed once is likely to mix again, and allocating the arrays anew each time it
 * fills costs more than they save. Elements never handed out are taken in address order without a list.
 */
final class ZoneChunk {
    /** The link of an allocated element. */
    private static final char ALLOCATED = 0xFFFF;
    /** The link of an element in a zcache magazine: allocated as the zone sees it, free as the ledger does. */
    private static final char CACHED = 0xFFFE;
    /** Links of free elements: 0 never handed out, otherwise the next free element's index + 2 (1 ends the list). */
    private static final int LINK_BIAS = 2;

    final Zone zone;
    final long base;
    private final int capacity;
    private final char[] link;
    /** The site and requested size of every live element, while the chunk is uniform. */
    private int uniformSite = -1;
    private char uniformRequested;
    /** Per-element site and requested size, once the chunk is mixed; null while it is uniform. */
    private int[] sites;
    private char[] requested;
    /** Per-element extra datum (an OSMalloc tag), allocated only when first needed. */
    private long[] aux;
    private int freeHead = -1;
    private int fresh;
    int freeCount;
    /** Set once any page of the chunk has been written: until then no byte needs checking. */
    volatile boolean touched;
    /** Position in the zone's chunk list, for O(1) removal. */
    int listIndex;
    ZoneChunk nextPartial;
    ZoneChunk prevPartial;
    boolean inPartialList;

    ZoneChunk(Zone zone, long base, int capacity) {
        if (capacity >= CACHED - LINK_BIAS) {
            throw new IllegalArgumentException("a chunk of " + capacity + " elements is too many to link");
        }
        this.zone = zone;
        this.base = base;
        this.capacity = capacity;
        this.link = new char[capacity];
        this.freeCount = capacity;
    }

    int capacity() {
        return capacity;
    }

    long address(int index) {
        return base + index * zone.elemSize;
    }

    boolean isAllocated(int index) {
        return link[index] == ALLOCATED;
    }

    /** The call site of a live element. */
    int site(int index) {
        return sites != null ? sites[index] : uniformSite;
    }

    /** The requested size of a live element. */
    int requested(int index) {
        return sites != null ? requested[index] : uniformRequested;
    }

    /** True while every live element shares one site and size (and none carries an aux datum). */
    boolean uniform() {
        return sites == null && aux == null;
    }

    int uniformSite() {
        return uniformSite;
    }

    int uniformRequested() {
        return uniformRequested;
    }

    /** Takes a free element (the last freed, else the next never handed out); the caller knows one is free. */
    int pop(int site, long requestedSize) {
        int index = take();
        link[index] = ALLOCATED;
        char size = (char) requestedSize;
        if (sites == null) {
            if (freeCount == capacity) {
                uniformSite = site;
                uniformRequested = size;
            } else if (site != uniformSite || size != uniformRequested) {
                inflate();
            }
        }
        if (sites != null) {
            sites[index] = site;
            requested[index] = size;
        }
        freeCount--;
        return index;
    }

    private int take() {
        if (freeHead >= 0) {
            int index = freeHead;
            freeHead = link[index] - LINK_BIAS;
            return index;
        }
        return fresh++;
    }

    /** Gives the chunk per-element arrays: a second site or size has arrived. */
    private void inflate() {
        int[] newSites = new int[capacity];
        char[] newRequested = new char[capacity];
        for (int i = 0; i < capacity; i++) {
            if (link[i] == ALLOCATED) {
                newSites[i] = uniformSite;
                newRequested[i] = uniformRequested;
            }
        }
        requested = newRequested; // filled before they are seen
        sites = newSites;
    }

    void push(int index) {
        link[index] = (char) (freeHead + LINK_BIAS);
        freeHead = index;
        freeCount++;
        if (aux != null) {
            aux[index] = 0;
        }
    }

    long aux(int index) {
        return aux == null ? 0 : aux[index];
    }

    void setAux(int index, long value) {
        if (aux == null) {
            if (value == 0) {
                return;
            }
            aux = new long[capacity];
        }
        aux[index] = value;
    }

    // ---------------------------------------------------------------------------------------------
    // zcache: elements of a cached zone pass through per-CPU magazines. The zone lock covers taking
    // and giving back (popForCache, push); a CPU that holds a cached element records and releases it
    // without the zone lock, touching only that element's slots. What spans the chunk (the uniform
    // site, the per-element arrays, aux) changes only while every CPU is held (settleCached).

    /** {@code zalloc_attempt} for a magazine: a free element, now cached. The zone lock is held. */
    int popForCache() {
        int index = take();
        link[index] = CACHED;
        freeCount--;
        return index;
    }

    boolean isCached(int index) {
        return link[index] == CACHED;
    }

    /**
     * Records a cached element handed out to {@code site} when that touches only the element's
     * slots; false when the chunk's shared state must change first ({@link #settleCached}).
     */
    boolean recordCached(int index, int site, long requestedSize) {
        char size = (char) requestedSize;
        if (sites != null) {
            sites[index] = site;
            requested[index] = size;
        } else if (site != uniformSite || size != uniformRequested) {
            return false;
        }
        link[index] = ALLOCATED;
        return true;
    }

    /**
     * Records a cached element whose site or size differs from the chunk's: with no element live
     * the chunk becomes uniform for the new site, otherwise it gets per-element arrays. Called
     * with every CPU held, so that no other thread touches the chunk.
     */
    void settleCached(int index, int site, long requestedSize) {
        if (sites == null) {
            boolean anyLive = false;
            for (int i = 0; i < capacity && !anyLive; i++) {
                anyLive = link[i] == ALLOCATED && i != index;
            }
            if (!anyLive) {
                uniformSite = site;
                uniformRequested = (char) requestedSize;
            } else {
                inflate();
            }
        }
        if (!recordCached(index, site, requestedSize)) {
            throw new IllegalStateException("chunk did not settle");
        }
    }

    /** A live element goes back into a magazine. */
    void releaseToCache(int index) {
        link[index] = CACHED;
        if (aux != null) {
            aux[index] = 0;
        }
    }

    /** Live elements now, counted from the links (a chunk of a cached zone has some in magazines). */
    int liveCount() {
        int live = 0;
        for (int i = 0; i < fresh; i++) {
            if (link[i] == ALLOCATED) {
                live++;
            }
        }
        return live;
    }

    /** Sets the aux datum when the array exists; false when it must be created first (every CPU held). */
    boolean trySetAux(int index, long value) {
        if (aux == null) {
            return value == 0;
        }
        aux[index] = value;
        return true;
    }
}
