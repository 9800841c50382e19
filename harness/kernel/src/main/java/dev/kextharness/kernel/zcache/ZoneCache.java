package dev.kextharness.kernel.zcache;

import dev.kextharness.kernel.cpu.Cpus;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.SparseMemory;

/**
 * One zone's per-CPU cache (xnu-6153 osfmk/kern/zcache.c, {@code struct zone_cache}): for each CPU
 * a {@code current} and a {@code previous} magazine, and a depot of {@link #DEPOT_SIZE} magazines,
 * the full ones below {@code zcc_depot_index}, the empty ones above it. A CPU allocates from and
 * frees to its own magazines without any lock; it takes the depot lock to swap a magazine, and
 * the zone lock (through {@link Zone}) to fill a magazine from the zone or drain one into it.
 *
 * <p>An element in a magazine carries {@code zcache_canary ^ addr} in its first and last word,
 * checked when a magazine hands it out or drains it: a write after free there panics with
 * zcache's message; a write to any other word goes unseen, and a double free is taken silently,
 * both copies landing in the magazine.
 */
public final class ZoneCache {
    /** {@code DEFAULT_MAGAZINE_SIZE}: elements per magazine (boot-arg {@code zcc_magazine_element_count}). */
    public static final int MAGAZINE_SIZE = 8;
    /** {@code DEFAULT_DEPOT_SIZE}: magazines in the depot (boot-arg {@code zcc_depot_element_count}). */
    public static final int DEPOT_SIZE = 8;
    /** {@code ZCACHE_DEPOT_INVALID}: the depot is being drained by zone_gc. */
    private static final int DEPOT_INVALID = -1;
    /** Lines of the two panics in xnu-6153.141.1 osfmk/kern/zcache.c. */
    static final int CORRUPTED_AT_BEGINNING_LINE = 657;
    static final int CORRUPTED_AT_END_LINE = 663;

    /** What the cache needs of its zone: XNU's calls under {@code lock_zone}. */
    public interface Zone {
        /**
         * {@code zalloc_attempt} up to {@code max} times under the zone lock, without growing the
         * zone: the elements taken go to {@code into[0..n)}; returns n.
         */
        int attempt(long[] into, int max);

        /**
         * {@code zcache_mag_drain}'s loop under the zone lock: for each element from the top of
         * the magazine down, {@code validate} it (the canary) and {@code zfree_direct} it.
         */
        void drain(long[] elements, int count, java.util.function.LongConsumer validate);
    }

    private static final class PerCpu {
        Magazine current;
        Magazine previous;
    }

    private final String zoneName;
    private final long zoneAddress;
    private final long elemSize;
    private final long canary;
    private final SparseMemory memory;
    private final Panicker panicker;
    private final Zone zone;
    private final PerCpu[] perCpu;
    private final Object depotLock = new Object();
    private final Magazine[] depot = new Magazine[DEPOT_SIZE];
    private int depotIndex;

    /**
     * {@code zcache_init}: two empty magazines per CPU and {@link #DEPOT_SIZE} empty ones in the depot.
     *
     * @param zoneAddress the zone's {@code struct zone} address, printed by the canary panics
     * @param canary      {@code zcache_canary}, chosen once per boot
     */
    public ZoneCache(String zoneName, long zoneAddress, long elemSize, long canary, int cpus, SparseMemory memory,
                     Panicker panicker, Zone zone) {
        this.zoneName = zoneName;
        this.zoneAddress = zoneAddress;
        this.elemSize = elemSize;
        this.canary = canary;
        this.memory = memory;
        this.panicker = panicker;
        this.zone = zone;
        this.perCpu = new PerCpu[cpus];
        for (int i = 0; i < cpus; i++) {
            PerCpu c = new PerCpu();
            c.current = new Magazine(MAGAZINE_SIZE);
            c.previous = new Magazine(MAGAZINE_SIZE);
            perCpu[i] = c;
        }
        for (int i = 0; i < DEPOT_SIZE; i++) {
            depot[i] = new Magazine(MAGAZINE_SIZE);
        }
    }

    /**
     * {@code zcache_alloc_from_cpu_cache}: an element from this CPU's magazines, else a full magazine
     * from the depot, else a magazine filled from the zone; 0 when the zone has no free element (the
     * caller grows the zone). The element's canary is checked before it is handed out.
     *
     * @param site the allocating call site, for a canary panic
     */
    public long alloc(Cpus.Cpu cpu, int site) {
        PerCpu cache = perCpu[cpu.id()];
        if (!cache.current.hasElements()) {
            if (cache.previous.hasElements()) {
                swapCurrentAndPrevious(cache);
            } else if (!swapInFullFromDepot(cache) && !fill(cache.current)) {
                return 0;
            }
        }
        long element = cache.current.pop();
        validate(element, site);
        return element;
    }

    /**
     * {@code zcache_free_to_cpu_cache}: writes the canary and pushes the element into this CPU's
     * magazines, swapping in an empty magazine from the depot, or draining the current one into the
     * zone, when both are full. XNU runs no double-free or pointer check on this path.
     */
    public void free(Cpus.Cpu cpu, long element, int site) {
        PerCpu cache = perCpu[cpu.id()];
        if (!cache.current.hasSpace()) {
            if (cache.previous.hasSpace()) {
                swapCurrentAndPrevious(cache);
            } else if (!swapInEmptyFromDepot(cache)) {
                drain(cache.current, site);
            }
        }
        addCanary(element);
        cache.current.push(element);
    }

    /**
     * {@code zcache_drain_depot} (zone_gc): the depot's full magazines go back to the zone. The
     * depot is marked invalid meanwhile, so CPUs fill from and drain to the zone directly.
     */
    public void drainDepot() {
        int full;
        synchronized (depotLock) {
            if (depotIndex == DEPOT_INVALID || depotIndex == 0) {
                return;
            }
            full = depotIndex;
            depotIndex = DEPOT_INVALID;
        }
        try {
            for (int i = 0; i < full; i++) {
                drain(depot[i], -1);
            }
        } finally {
            synchronized (depotLock) {
                depotIndex = 0;
            }
        }
    }

    /** {@code zcache_canary ^ element}: what the first and last word of a cached element hold. */
    public long canaryOf(long element) {
        return canary ^ element;
    }

    /** Elements this cache holds now, in every CPU's magazines and the depot (counted by the zone as in use). */
    public int cachedElements() {
        int n = 0;
        for (PerCpu c : perCpu) {
            n += c.current.index + c.previous.index;
        }
        synchronized (depotLock) {
            for (int i = 0; i < Math.max(depotIndex, 0); i++) {
                n += depot[i].index;
            }
        }
        return n;
    }

    /** Elements in CPU {@code cpu}'s current and previous magazines. */
    public int cachedOnCpu(int cpu) {
        return perCpu[cpu].current.index + perCpu[cpu].previous.index;
    }

    /** Full magazines in the depot ({@code zcc_depot_index}), or -1 while zone_gc drains it. */
    public int fullMagazinesInDepot() {
        synchronized (depotLock) {
            return depotIndex;
        }
    }

    private static void swapCurrentAndPrevious(PerCpu cache) {
        Magazine m = cache.current;
        cache.current = cache.previous;
        cache.previous = m;
    }

    /** {@code zcache_mag_depot_swap_for_alloc}. */
    private boolean swapInFullFromDepot(PerCpu cache) {
        synchronized (depotLock) {
            if (depotIndex == DEPOT_INVALID || depotIndex == 0) {
                return false;
            }
            depotIndex--;
            Magazine full = depot[depotIndex];
            depot[depotIndex] = cache.current;
            cache.current = full;
            return true;
        }
    }

    /** {@code zcache_mag_depot_swap_for_free}. */
    private boolean swapInEmptyFromDepot(PerCpu cache) {
        synchronized (depotLock) {
            if (depotIndex == DEPOT_INVALID || depotIndex >= DEPOT_SIZE) {
                return false;
            }
            Magazine empty = depot[depotIndex];
            depot[depotIndex] = cache.current;
            cache.current = empty;
            depotIndex++;
            return true;
        }
    }

    /** {@code zcache_mag_fill}: as many elements as the zone gives without growing, each with its canary. */
    private boolean fill(Magazine magazine) {
        int n = zone.attempt(magazine.elements, magazine.elements.length);
        for (int i = 0; i < n; i++) {
            addCanary(magazine.elements[i]);
        }
        magazine.index = n;
        return n > 0;
    }

    private void drain(Magazine magazine, int site) {
        int count = magazine.index;
        zone.drain(magazine.elements, count, element -> validate(element, site));
        java.util.Arrays.fill(magazine.elements, 0, count, 0);
        magazine.index = 0;
    }

    /**
     * {@code zcache_canary_add}. An element whose page was never written needs no store: the zone
     * allocator's overlay makes those words read as the canary already.
     */
    private void addCanary(long element) {
        long value = canary ^ element;
        memory.storeIfMaterialized(element, value);
        memory.storeIfMaterialized(element + elemSize - 8, value);
    }

    /** {@code zcache_canary_validate}: the first word, then the last. */
    private void validate(long element, int site) {
        long expected = canary ^ element;
        long primary = memory.load(element, 8);
        if (primary != expected) {
            throw panicker.kernel("osfmk/kern/zcache.c", CORRUPTED_AT_BEGINNING_LINE, site, CFormat.format(
                    "Zone cache element was used after free! Element %p was corrupted at beginning; "
                            + "Expected %p but found %p; canary %p; zone %p (%s)",
                    element, expected, primary, canary, zoneAddress, zoneName));
        }
        long backup = memory.load(element + elemSize - 8, 8);
        if (backup != expected) {
            throw panicker.kernel("osfmk/kern/zcache.c", CORRUPTED_AT_END_LINE, site, CFormat.format(
                    "Zone cache element was used after free! Element %p was corrupted at end; "
                            + "Expected %p but found %p; canary %p; zone %p (%s)",
                    element, expected, backup, canary, zoneAddress, zoneName));
        }
    }
}
