package dev.kextharness.kernel.zalloc;

/**
 * One chunk of a zone ({@code alloc_size} bytes of the zone map, carved into elements) and the
 * ledger's metadata for each element, found from an address by arithmetic:
 * {@code index = (addr - base) / elemSize}. Per element it keeps what ASan keeps per byte:
 * allocated or free, the requested size, the allocation site and, once freed, the free site.
 *
 * <p>Per element it keeps two bytes: a link that says whether the element is allocated and, when
 * it is free, which free element comes next. Who allocated the live elements (call site and
 * requested size) is kept once for the whole chunk as long as they all agree, which they do for
 * a chunk filled by one call site, such as a leak's; the first element from another site or of
 * another size gives the chunk per-element arrays (six bytes more an element), which it keeps:
 * a chunk that mixed once is likely to mix again, and allocating the arrays anew each time it
 * fills costs more than they save. Elements never handed out are taken in address order without a list.
 * The site and size of a freed element stay as they were until it is handed out again, so that a
 * use after free can name its allocation; an emptied chunk therefore goes mixed rather than
 * forgetting them when another site arrives.
 *
 * <p>Poison is a state, not bytes: two more arrays, each allocated only when first needed, say
 * who freed each free element and how far each element's bytes may differ from the poison
 * (a high-water mark of the writes into it). A free poisons only that far, and an allocation
 * scans nothing unless the element was written while it was free.
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
    /** Per element, the site that last freed it; allocated at the chunk's first free. */
    private int[] freeSites;
    /**
     * Per element, the end (bytes from its start) of what was written into it: for a live element,
     * how much a free must poison again; for a free one, nonzero means it was modified while free.
     * Allocated at the first write into the chunk.
     */
    private volatile char[] written;
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
            if (freeCount == capacity && freeSites == null) {
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
        // Every element handed out so far, free ones included: their sites name the allocation of a use after free.
        for (int i = 0; i < fresh; i++) {
            newSites[i] = uniformSite;
            newRequested[i] = uniformRequested;
        }
        requested = newRequested; // filled before they are seen
        sites = newSites;
    }

    void push(int index, int freeSite) {
        if (freeSites == null) {
            freeSites = new int[capacity];
        }
        freeSites[index] = freeSite;
        pushFromCache(index);
    }

    /** A cached element goes back on the free list (a magazine drain); its free site stays as recorded. */
    void pushFromCache(int index) {
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

    /** True once any element of the chunk was handed out (its index is below the fresh mark). */
    boolean everHandedOut(int index) {
        return index < fresh;
    }

    /** The site that freed a free element, or -1 if it was never freed. */
    int freeSite(int index) {
        return freeSites == null || link[index] == ALLOCATED || index >= fresh ? -1 : freeSites[index];
    }

    /** How far the element's bytes may differ from poison (0: not at all). */
    int written(int index) {
        char[] marks = written;
        return marks == null ? 0 : marks[index];
    }

    /** Records a write that ends {@code end} bytes into the element. */
    void wrote(int index, long end) {
        char[] marks = written;
        if (marks == null) {
            synchronized (this) { // threads writing into different elements may make it at once
                marks = written;
                if (marks == null) {
                    marks = new char[capacity];
                    written = marks;
                }
            }
        }
        if (end > marks[index]) {
            marks[index] = (char) Math.min(end, zone.elemSize);
        }
    }

    /** Forgets the element's writes: its bytes read as poison again. */
    void clearWritten(int index) {
        char[] marks = written;
        if (marks != null) {
            marks[index] = 0;
        }
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
            // As pop: an element freed before keeps its allocation site for reports, so the chunk goes mixed.
            if (!anyLive && freeSites == null) {
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

    /**
     * A live element goes back into a magazine, freed by {@code freeSite}; false when the chunk's
     * free-site array must be made first ({@link #releaseToCacheSettled}, every CPU held).
     */
    boolean releaseToCache(int index, int freeSite) {
        if (freeSites == null) {
            return false;
        }
        freeSites[index] = freeSite;
        link[index] = CACHED;
        if (aux != null) {
            aux[index] = 0;
        }
        return true;
    }

    /** {@link #releaseToCache} that makes the free-site array; called with every CPU held. */
    void releaseToCacheSettled(int index, int freeSite) {
        if (freeSites == null) {
            freeSites = new int[capacity];
        }
        releaseToCache(index, freeSite);
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
