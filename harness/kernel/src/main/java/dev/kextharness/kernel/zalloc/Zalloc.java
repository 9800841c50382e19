package dev.kextharness.kernel.zalloc;

import dev.kextharness.kernel.cpu.Cpus;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.zcache.ZoneCache;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * zalloc: XNU's zone allocator (osfmk/kern/zalloc.c of xnu-6153). Creates zones with zinit's size
 * rules, hands out and takes back elements, poisons freed elements and checks them when they are
 * handed out again, grows zones into the zone map and, when the map runs out, panics the way
 * Catalina does. The ledger's per-element metadata lives in the zone chunks.
 *
 * <p>Zones with caching on (Catalina's kalloc.16 ... kalloc.1024, .2048, .4096, .8192) serve
 * allocations and frees from per-CPU magazines ({@link ZoneCache}): a thread takes a simulated
 * CPU for the call and touches only that CPU's magazines and its element's own metadata, with no
 * shared lock. As in XNU, the zone lock guards a zone's free lists and counters (zalloc of an
 * uncached zone, a magazine fill or drain), the zone map has a lock of its own, and zone_gc is
 * serialised; the locks are taken in that order (gc, zone, map) and never the other way round.
 */
public final class Zalloc {
    /** {@code MAX_ZONES} on Catalina. */
    public static final int MAX_ZONES = 320;
    /** {@code ZONE_MAX_ALLOC_SIZE}. */
    static final long ZONE_MAX_ALLOC_SIZE = 32 * 1024;
    /** The zone-map-exhausted panic's line in xnu-6153.141.1 osfmk/kern/zalloc.c. */
    static final int EXHAUSTED_PANIC_LINE = 3627;
    /**
     * Where the harness puts {@code zone_array} (the kernel's static array of {@code struct zone})
     * and the size it gives each entry: zcache's panics print the zone's address. Harness values;
     * the real ones depend on the kernel build and slide.
     */
    static final long ZONE_ARRAY = 0xffffff8021c3a000L;
    static final long ZONE_STRUCT_SIZE = 0x110;

    /** Told when the zone map grows past the jetsam limit (XNU wakes the pageout GC thread). */
    public interface PressureHandler {
        void zoneMapAboveJetsamLimit(Zalloc zalloc);
    }

    private static final Comparator<ZoneChunk> BY_LIST_POSITION_DESCENDING =
            Comparator.comparingInt((ZoneChunk chunk) -> chunk.listIndex).reversed();

    private final ZoneMap map;
    private final SparseMemory memory;
    private final Ledger ledger;
    private final Panicker panicker;
    private final Cpus cpus;
    private final List<Zone> zones = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final long nopoisonCookie;
    private final long poisonedCookie;
    /** {@code zcache_canary}: early_random() at zcache_bootstrap. */
    private final long zcacheCanary;
    /** {@code zone_gc_lock}: one collection at a time. */
    private final Object gcLock = new Object();
    /** Serialises changes that span a chunk of a cached zone; held with every CPU ({@link #withEveryCpu}). */
    private final Object worldLock = new Object();
    private int jetsamLimitPercent;
    private PressureHandler pressureHandler;
    private final java.util.concurrent.atomic.AtomicBoolean pressurePending = new java.util.concurrent.atomic.AtomicBoolean();
    private long lastPressureSize;

    public Zalloc(long zoneMapCapacity, SparseMemory memory, Ledger ledger, Panicker panicker,
                  int jetsamLimitPercent, long bootSeed, Cpus cpus) {
        this.map = new ZoneMap(AddressSpace.ZONE_MAP_BASE, zoneMapCapacity);
        this.memory = memory;
        this.ledger = ledger;
        this.panicker = panicker;
        this.cpus = cpus;
        this.jetsamLimitPercent = jetsamLimitPercent;
        // zalloc.c: both cookies come from early_random(); the tags make cookie ^ kernel pointer read
        // 0xC0FFEE... (nopoison, low bit 0) and 0xFACADE... (poisoned, low bit 1).
        long random = Long.rotateLeft((bootSeed + 1) * 0x9E3779B97F4A7C15L, 17);
        this.nopoisonCookie = ((random & ~1L) & 0x000000FFFFFFFFFFL) | 0x3f00110000000000L;
        this.poisonedCookie = (((random >>> 7) | 1L) & 0x000000FFFFFFFFFFL) | 0x0535210000000000L;
        this.zcacheCanary = Long.rotateLeft((bootSeed + 3) * 0xC2B2AE3D27D4EB4FL, 29) ^ 0x5851F42D4C957F2DL;
        memory.setOverlay(new CanaryOverlay());
    }

    /** The zone map capacity XNU derives from the amount of physical memory. */
    public static long zoneMapCapacityFor(long physicalMemory) {
        return ZoneMap.capacityFor(physicalMemory);
    }

    /** The zone map capacity for the {@code zsize} boot-arg, clamped as XNU clamps it. */
    public static long zoneMapCapacityFor(long physicalMemory, long zsize) {
        return ZoneMap.capacityFor(physicalMemory, zsize);
    }

    public void setPressureHandler(PressureHandler handler) {
        this.pressureHandler = handler;
    }

    // ---------------------------------------------------------------------------------------------
    // zinit

    /**
     * {@code zinit(size, max, alloc, name)}: the element size is raised to 16 and rounded to 8; the
     * chunk size is chosen by XNU's least-fragmentation rule, whatever {@code alloc} says; the
     * maximum is page-rounded and raised to the chunk size.
     */
    public Zone zinit(long size, long max, long alloc, String name) {
        Objects.requireNonNull(name, "name");
        if (zones.size() >= MAX_ZONES) {
            throw panicker.harness(-1, "zinit: Too many zones (" + MAX_ZONES + ")", "xnu-6153 only asserts "
                    + "num_zones < MAX_ZONES (zalloc.c:2303), and RELEASE kernels compile asserts out");
        }
        long elemSize = Math.max(size, 16);
        elemSize = (elemSize + 7) & ~7L;
        long allocSize = chunkSizeFor(elemSize);
        long maxSize = Math.max(AddressSpace.roundPage(max), allocSize);
        Zone zone;
        synchronized (zones) {
            zone = new Zone(name, elemSize, allocSize, maxSize);
            zone.address = ZONE_ARRAY + zones.size() * ZONE_STRUCT_SIZE;
            zones.add(zone);
        }
        return zone;
    }

    /** The chunk size zinit picks: least integer fragmentation percentage among 4..32 KiB, smaller on ties. */
    static long chunkSizeFor(long elemSize) {
        if (elemSize % AddressSpace.PAGE_SIZE == 0) {
            return elemSize;
        }
        if (elemSize > ZONE_MAX_ALLOC_SIZE) {
            return AddressSpace.roundPage(elemSize);
        }
        long best = 0;
        long bestWaste = Long.MAX_VALUE;
        for (long alloc = AddressSpace.PAGE_SIZE; alloc <= ZONE_MAX_ALLOC_SIZE; alloc += AddressSpace.PAGE_SIZE) {
            if (alloc < elemSize) {
                continue;
            }
            long waste = ((alloc % elemSize) * 100) / alloc;
            if (waste < bestWaste) {
                bestWaste = waste;
                best = alloc;
            }
        }
        return best;
    }

    /** {@code zone_change(zone, Z_EXHAUST, value)}. */
    public void setExhaustible(Zone zone, boolean value) {
        zone.exhaustible = value;
    }

    /** {@code zone_change(zone, Z_EXPAND, value)}. */
    public void setExpandable(Zone zone, boolean value) {
        zone.expandable = value;
    }

    /** {@code zone_change(zone, Z_COLLECT, value)}. */
    public void setCollectable(Zone zone, boolean value) {
        zone.collectable = value;
    }

    /**
     * {@code zone_change(zone, Z_CACHING_ENABLED, value)}: {@code zcache_init} gives the zone its
     * per-CPU cache. As in XNU, turning caching off again does nothing.
     */
    public void setCaching(Zone zone, boolean value) {
        if (value && zone.cache == null) {
            zone.caching = true;
            zone.cache = new ZoneCache(zone.name, zone.address, zone.elemSize, zcacheCanary, cpus.count(), memory,
                    panicker, new CacheBackend(zone));
        }
    }

    /** {@code zone_change(zone, Z_CALLERACCT, value)}. */
    public void setCallerAcct(Zone zone, boolean value) {
        zone.callerAcct = value;
    }

    // ---------------------------------------------------------------------------------------------
    // zalloc / zfree

    /**
     * Hands out an element of {@code zone} for {@code site}, or returns 0 when a non-blocking
     * caller finds no room, or when an exhaustible zone is full.
     *
     * @param requested the size the caller asked for (kept for the ledger, at most 65535)
     */
    public long zalloc(Zone zone, int site, long requested, boolean canBlock) {
        long addr;
        Cpus.Cpu cpu = cpus.acquire();
        try {
            if (zone.cache != null) {
                addr = zallocCached(zone, cpu, site, requested, canBlock);
            } else {
                addr = zallocLocked(zone, cpu, site, requested, canBlock);
            }
        } finally {
            cpus.release(cpu);
        }
        if (pressurePending.get() && pressurePending.compareAndSet(true, false)) {
            pressureHandler.zoneMapAboveJetsamLimit(this);
        }
        return addr;
    }

    /** zalloc of a zone without a cache: everything under the zone lock, as XNU's zalloc_internal. */
    private long zallocLocked(Zone zone, Cpus.Cpu cpu, int site, long requested, boolean canBlock) {
        ZoneChunk chunk;
        int index;
        while (true) {
            synchronized (zone) {
                chunk = zone.partialHead;
                if (chunk != null) {
                    if (chunk.freeCount == chunk.capacity()) {
                        zone.emptyChunks--;
                    }
                    index = chunk.pop(site, requested);
                    if (chunk.freeCount == 0) {
                        zone.unlinkPartial(chunk);
                    }
                    zone.count++;
                    zone.sumCount++;
                    break;
                }
            }
            if (!grow(zone, site, canBlock)) {
                return 0;
            }
        }
        long addr = chunk.address(index);
        if (chunk.written(index) != 0) {
            // Written while it was free (only the XNU modes let such a write through): zone poisoning's check.
            checkPoison(zone, addr, 0, zone.elemSize, site);
            chunk.clearWritten(index);
        }
        ledger.allocated(cpu.id(), site, requested);
        return addr;
    }

    /**
     * zalloc of a cached zone: the CPU's magazines first (no lock); when the cache and the zone are
     * both empty, grow the zone and fill again. The element's ledger record is written without
     * the zone lock: this CPU alone holds the element.
     */
    private long zallocCached(Zone zone, Cpus.Cpu cpu, int site, long requested, boolean canBlock) {
        while (true) {
            long addr = zone.cache.alloc(cpu, site);
            if (addr == 0) {
                if (!grow(zone, site, canBlock)) {
                    return 0;
                }
                continue;
            }
            ZoneChunk chunk = map.chunkAt(addr);
            int index = elementIndex(chunk, addr);
            if (!chunk.isCached(index) && !chunk.isAllocated(index)) {
                // A double free after the element drained back to the zone (XNU modes only): the
                // zone's free list owns it, so the harness drops the stale magazine entry.
                continue;
            }
            if (chunk.isAllocated(index)) {
                // XNU modes: a double free or an interior-pointer free put a live element in the
                // magazine, and XNU hands it out twice; its first owner's record gives way.
                ledger.freed(cpu.id(), chunk.site(index), chunk.requested(index));
            }
            if (chunk.written(index) != 0 && ledger.findingsEnabled()) {
                // Written while cached: the harness looks for a write after free in the words XNU's canary
                // does not cover (Catalina checks only the canary, so the XNU modes keep the bytes).
                checkPoison(zone, addr, 8, zone.elemSize - 16, site);
                chunk.clearWritten(index);
            }
            if (!chunk.recordCached(index, site, requested)) {
                withEveryCpu(cpu, () -> chunk.settleCached(index, site, requested));
            }
            ledger.allocated(cpu.id(), site, requested);
            return addr;
        }
    }

    /**
     * Runs a change that spans a chunk of a cached zone (its uniform site, its per-element arrays)
     * while every CPU is held, so that no thread records or releases an element of it meanwhile.
     * The caller's CPU is held throughout; the others are taken in order under one lock, so two
     * such changes cannot wait for each other.
     */
    private void withEveryCpu(Cpus.Cpu own, Runnable change) {
        cpus.withEveryCpu(own, worldLock, change);
    }

    /** Records an aux datum (an OSMalloc tag, a padded block's size) with a live element. */
    public void setAux(long addr, long value) {
        ZoneChunk chunk = map.chunkAt(addr);
        int index = elementIndex(chunk, addr);
        if (chunk.zone.cache == null) {
            synchronized (chunk.zone) {
                chunk.setAux(index, value);
            }
        } else if (!chunk.trySetAux(index, value)) {
            Cpus.Cpu cpu = cpus.acquire();
            try {
                withEveryCpu(cpu, () -> chunk.setAux(index, value));
            } finally {
                cpus.release(cpu);
            }
        }
    }

    /**
     * What the zone map knows about an address: the owning zone's element that contains it.
     * Returns null if no zone owns the address.
     */
    public Element element(long addr) {
        ZoneChunk chunk = map.chunkAt(addr);
        if (chunk == null) {
            return null;
        }
        int index = elementIndex(chunk, addr);
        if (index >= chunk.capacity()) {
            // The tail of a chunk that no element covers.
            return new Element(chunk.zone, chunk.base + index * chunk.zone.elemSize, -1, 0, 0, false, -1);
        }
        boolean live = chunk.isAllocated(index);
        boolean handedOut = chunk.everHandedOut(index);
        return new Element(chunk.zone, chunk.address(index), handedOut ? chunk.site(index) : -1,
                handedOut ? chunk.requested(index) : 0, live ? chunk.aux(index) : 0, live, chunk.freeSite(index));
    }

    /**
     * A zone element as the ledger sees it.
     *
     * @param zone      the owning zone
     * @param address   the element's start
     * @param site      the allocating call site (of its last life, if free), or -1 if never handed out
     * @param requested the requested size (of its last life, if free)
     * @param aux       the aux datum, if live
     * @param live      whether it is allocated
     * @param freeSite  the site that freed it, if free, else -1
     */
    public record Element(Zone zone, long address, int site, long requested, long aux, boolean live, int freeSite) {
    }

    /** What {@link #zfree} freed, for the caller's findings: the allocating site and the requested size. */
    public static final class Freed {
        private int site;
        private long requested;

        public int site() {
            return site;
        }

        public long requested() {
            return requested;
        }
    }

    /**
     * {@code zfree(zone, addr)}: XNU's checks ({@link #checkFree}), then the free, with one lookup
     * of the element's chunk. Tells {@code freed} what the element held (site -1 when the free
     * freed no live allocation: XNU's silent double or interior free in a cached zone).
     */
    public void zfree(Zone zone, long addr, int site, Freed freed) {
        ZoneChunk chunk = map.chunkAt(addr);
        if (zone.cache != null && !ledger.findingsEnabled()) {
            checkOwner(chunk, zone, addr, site); // zcache skips free_to_zone's other checks
        } else {
            checkFree(chunk, zone, addr, site);
        }
        int index = elementIndex(chunk, addr);
        boolean live = chunk.isAllocated(index) && chunk.address(index) == addr;
        if (zone.cache == null) {
            // Another CPU may be giving this chunk per-element arrays under the zone lock.
            synchronized (zone) {
                freed.site = live ? chunk.site(index) : -1;
                freed.requested = live ? chunk.requested(index) : 0;
            }
        } else {
            freed.site = live ? chunk.site(index) : -1; // this CPU holds the element; chunk-wide changes wait for every CPU
            freed.requested = live ? chunk.requested(index) : 0;
        }
        free(chunk, zone, addr, index, live, site);
    }

    /**
     * Frees a live element, checked by the caller ({@link #checkFree}); records the ledger change
     * and poisons what is there.
     */
    public void zfreeChecked(Zone zone, long addr, int site) {
        ZoneChunk chunk = map.chunkAt(addr);
        free(chunk, zone, addr, elementIndex(chunk, addr), true, site);
    }

    private void free(ZoneChunk chunk, Zone zone, long addr, int index, boolean live, int site) {
        Cpus.Cpu cpu = cpus.acquire();
        try {
            if (zone.cache != null) {
                freeToCache(chunk, zone, addr, index, live, cpu, site);
                return;
            }
            int allocSite;
            int requested;
            synchronized (zone) { // per-element arrays may be appearing under the zone lock
                allocSite = chunk.site(index);
                requested = chunk.requested(index);
            }
            ledger.freed(cpu.id(), allocSite, requested);
            int written = chunk.written(index);
            if (written != 0) {
                // Poison is a state: only the bytes written in this life need the pattern back. The harness
                // poisons at every free (as with the -zp boot-arg), so that a write after free stays visible;
                // before the element is back on the free list, where another CPU may take it at once.
                memory.poison(addr, (written + 7) & ~7);
                chunk.clearWritten(index);
            }
            synchronized (zone) {
                boolean wasFull = chunk.freeCount == 0;
                chunk.push(index, site);
                zone.count--;
                if (wasFull) {
                    zone.linkPartial(chunk);
                }
                if (chunk.freeCount == chunk.capacity()) {
                    zone.emptyChunks++;
                }
            }
        } finally {
            cpus.release(cpu);
        }
    }

    /**
     * zfree of a cached zone: zfree_poison_element, then the CPU's magazine (zcache_canary_add and
     * push). The harness poisons every free (as with -zp); XNU always poisons elements of up to 64
     * bytes and larger ones every so often. An element that is not live (XNU modes only: a double
     * free, an interior pointer) changes no record, but goes into the magazine as XNU puts it there.
     */
    private void freeToCache(ZoneChunk chunk, Zone zone, long addr, int index, boolean live, Cpus.Cpu cpu, int site) {
        if (live) {
            ledger.freed(cpu.id(), chunk.site(index), chunk.requested(index));
            if (!chunk.releaseToCache(index, site)) {
                withEveryCpu(cpu, () -> chunk.releaseToCacheSettled(index, site));
            }
        } else if (!chunk.isCached(index) && !chunk.isAllocated(index)) {
            return; // on the zone's free list already: the harness keeps its free list whole (XNU modes only)
        }
        if (chunk.address(index) != addr) {
            // An interior pointer: XNU poisons and writes the canary relative to it, into the
            // neighbouring element; written out, since the overlay knows only element boundaries.
            for (long a = addr + 8; a < addr + zone.elemSize - 8; a += 8) {
                memory.store(a, 8, SparseMemory.ZP_POISON);
            }
            memory.store(addr, 8, zone.cache.canaryOf(addr));
            memory.store(addr + zone.elemSize - 8, 8, zone.cache.canaryOf(addr));
        } else {
            // Poison is a state: only the words between the canaries that this life wrote need it back.
            int written = chunk.written(index);
            long end = Math.min((written + 7) & ~7, zone.elemSize - 8);
            if (end > 8) {
                memory.poison(addr + 8, end - 8);
            }
            chunk.clearWritten(index);
        }
        zone.cache.free(cpu, addr, site);
    }

    /** The checks of zfree that zcache keeps: the pointer is in the zone map, and in this zone. */
    private void checkOwner(ZoneChunk chunk, Zone zone, long addr, int site) {
        if (chunk == null) {
            if (addr == 0) {
                throw Traps.pageFault(panicker, site, 0);
            }
            throw panicker.kernel("osfmk/kern/zalloc.c", 3969, site,
                    "zfree: non-allocated memory in collectable zone!");
        }
        if (chunk.zone != zone) {
            throw panicker.kernel("osfmk/kern/zalloc.c", 3961, site, CFormat.format(
                    "Element %p from zone %s caught being freed to wrong zone %s\n", addr, chunk.zone.name, zone.name));
        }
        if (elementIndex(chunk, addr) >= chunk.capacity()) {
            // Past the last element of the chunk: no element's metadata to keep, so even the XNU
            // modes stop here.
            throw panicker.kernel("osfmk/kern/zalloc.c", 1325, site,
                    CFormat.format("zfree: freeing invalid pointer %p to zone %s\n", addr, zone.name),
                    "XNU 6153 would put this pointer into " + zone.name + "'s per-CPU cache; it lies in the tail "
                            + "of a zone chunk that no element covers, so the harness stops here");
        }
    }

    /**
     * zfree's checks, in XNU's order, for freeing {@code addr} to {@code zone}: owned by a zone,
     * owned by this zone, at an element boundary, not already free. Panics on failure.
     */
    public void checkFree(Zone zone, long addr, int site) {
        checkFree(map.chunkAt(addr), zone, addr, site);
    }

    private void checkFree(ZoneChunk chunk, Zone zone, long addr, int site) {
        if (chunk == null) {
            if (addr == 0) {
                throw Traps.pageFault(panicker, site, 0);
            }
            throw panicker.kernel("osfmk/kern/zalloc.c", 3969, site,
                    "zfree: non-allocated memory in collectable zone!");
        }
        if (chunk.zone != zone) {
            int owner = elementIndex(chunk, addr);
            String note = owner < chunk.capacity() && chunk.everHandedOut(owner)
                    ? CFormat.format("the element at %p is %s; the size passed to the free selects %s",
                    chunk.address(owner), describe(chunk, owner), zone.name)
                    : null;
            throw panicker.kernel("osfmk/kern/zalloc.c", 3961, site, CFormat.format(
                    "Element %p from zone %s caught being freed to wrong zone %s\n", addr, chunk.zone.name, zone.name),
                    note);
        }
        long offset = addr - chunk.base;
        int index = elementIndex(chunk, addr);
        if (offset != index * zone.elemSize || index >= chunk.capacity()) {
            String note = zone.caching
                    ? "on Catalina " + zone.name + " has a per-CPU cache (zcache): XNU would take this interior "
                    + "pointer into the CPU's magazine silently and hand it out at a later allocation, overlapping "
                    + "two elements; the harness stops here (--no-findings gives XNU's silence)"
                    : addr % 8 == 0
                    ? "XNU 6153 checks only that the pointer is 8-byte aligned: it would take this interior pointer "
                    + "for an element and corrupt " + zone.name + "; the harness stops here"
                    : null;
            throw panicker.kernel("osfmk/kern/zalloc.c", 1325, site,
                    CFormat.format("zfree: freeing invalid pointer %p to zone %s\n", addr, zone.name), note);
        }
        if (!chunk.isAllocated(index)) {
            String history = chunk.everHandedOut(index)
                    ? describe(chunk, index) + ", first freed by " + siteText(chunk.freeSite(index)) + "; "
                    : "the element was never allocated; ";
            String note = history + Catalina.doubleFree(zone) + " The harness stops at the second free itself"
                    + (zone.caching ? " (--no-findings gives XNU's silence)." : ".");
            throw panicker.kernel("osfmk/kern/zalloc.c", 1330, site,
                    CFormat.format("zfree: double free of %p to zone %s\n", addr, zone.name), note);
        }
    }

    /** "a 40-byte block of kalloc.48 allocated by kalloc at Foo.bar(Foo.java:12)", for reports. */
    private String describe(ZoneChunk chunk, int index) {
        return "a " + chunk.requested(index) + "-byte block of " + chunk.zone.name + " allocated by "
                + siteText(chunk.site(index));
    }

    /** A call site as reports name it: the function and where it was called. */
    private String siteText(int site) {
        if (site < 0) {
            return "an unknown site";
        }
        var callSite = ledger.site(site);
        return callSite.function() + " at " + callSite.location();
    }

    private static int elementIndex(ZoneChunk chunk, long addr) {
        return chunk.zone.indexOf(addr - chunk.base);
    }

    /** The zone that owns {@code addr}, or null. */
    public Zone zoneOf(long addr) {
        ZoneChunk chunk = map.chunkAt(addr);
        return chunk == null ? null : chunk.zone;
    }

    public boolean inZoneMap(long addr) {
        return map.contains(addr);
    }

    /**
     * Records a write the kernel itself made into the zone map (a zero fill, a structure it keeps
     * in an element): each element it reaches now holds data up to where the write ends, and a free
     * one counts as modified while free.
     */
    public void wrote(long addr, long length) {
        long a = addr;
        long end = addr + length;
        while (Long.compareUnsigned(a, end) < 0) {
            ZoneChunk chunk = map.chunkAt(a);
            if (chunk == null) {
                a = (a | AddressSpace.PAGE_MASK) + 1;
                continue;
            }
            int index = elementIndex(chunk, a);
            long start = chunk.base + index * chunk.zone.elemSize;
            long elementEnd = start + chunk.zone.elemSize;
            if (index < chunk.capacity()) {
                chunk.wrote(index, Math.min(end, elementEnd) - start);
            }
            a = elementEnd;
        }
    }

    /** Told the base of every page of the zone map that comes into existence: its chunk is touched. */
    public void touched(long addr) {
        ZoneChunk chunk = map.chunkAt(addr);
        if (chunk != null) {
            chunk.touched = true;
        }
    }

    /** What {@link #access} found. */
    public enum Access {
        /** Inside the requested size of a live element (or let through by the XNU modes). */
        OK,
        /** Into a free element. */
        FREED,
        /** Past the requested size of a live element, within its bucket. */
        PAST_REQUESTED,
        /** A write that runs past the end of the element, into the next one. */
        PAST_ELEMENT,
        /** A page of the zone map that no zone owns. */
        UNMAPPED
    }

    /**
     * Checks one access of {@code length} bytes at {@code addr} in the zone map, made by kext code,
     * and records a write in the element's state. With {@code strict} (the harness's findings) an
     * access into a free element or past the requested size is refused; otherwise it goes through
     * as on XNU, and a write into a free element is remembered for zone poisoning's check at the
     * next allocation. A write past the element's end is refused in either mode.
     */
    public Access access(long addr, long length, boolean write, boolean strict) {
        ZoneChunk chunk = map.chunkAt(addr);
        if (chunk == null) {
            return Access.UNMAPPED;
        }
        long offset = addr - chunk.base;
        long elemSize = chunk.zone.elemSize;
        int index = chunk.zone.indexOf(offset);
        if (index >= chunk.capacity()) {
            return Access.OK; // the tail of a chunk that no element covers: mapped, and nobody's
        }
        long end = offset - index * elemSize + length;
        if (!chunk.isAllocated(index)) {
            if (strict) {
                return Access.FREED;
            }
        } else if (end > chunk.requested(index) && strict && end > paddedBound(chunk, index)) {
            return end > elemSize ? Access.PAST_ELEMENT : Access.PAST_REQUESTED;
        }
        if (end > elemSize) {
            return write ? Access.PAST_ELEMENT : Access.OK;
        }
        if (write) {
            chunk.wrote(index, end);
        }
        return Access.OK;
    }

    /**
     * The bytes of a live element a kext may touch beyond its requested size: the whole element
     * for IOKit's padded blocks (a header and alignment slack around the caller's bytes, whose aux
     * datum is the caller's size), none for the rest.
     */
    private static long paddedBound(ZoneChunk chunk, int index) {
        long aux = chunk.aux(index);
        return aux != 0 && aux == chunk.requested(index) ? chunk.zone.elemSize : 0;
    }

    /** Panics if a word of {@code [addr + from, addr + from + length)} is no longer poison. */
    private void checkPoison(Zone zone, long addr, long from, long length, int site) {
        long found0 = memory.firstUnpoisonedWord(addr + from, length);
        if (found0 >= 0) {
            long offset = from + found0;
            long found = memory.load(addr + offset, 8);
            String note = zone.cache == null ? null
                    : "on Catalina " + zone.name + " has a per-CPU cache (zcache), which checks only the first and "
                    + "last word of an element (its canary): XNU would hand this element out without a word; the "
                    + "harness checks every word (--no-findings gives XNU's silence)";
            throw panicker.kernel("osfmk/kern/zalloc.c", 1233, site, CFormat.format(
                    "a freed zone element has been modified in zone %s: expected %p but found %p, bits changed %p, "
                            + "at offset %d of %d in element %p, cookies %p %p",
                    zone.name, SparseMemory.ZP_POISON, found, SparseMemory.ZP_POISON ^ found,
                    (int) offset, (int) zone.elemSize, addr, nopoisonCookie, poisonedCookie), note);
        }
    }

    /**
     * Grows an empty zone by a chunk (XNU's zalloc slow path and zcram): the zone's limits under
     * its lock, then space from the zone map under the map's, retried once after a zone GC.
     * Returns false when a non-blocking caller, or an exhaustible zone, gets nothing.
     */
    private boolean grow(Zone zone, int site, boolean canBlock) {
        boolean empty = false;
        synchronized (zone) {
            if (zone.partialHead != null) {
                return true; // another CPU grew it meanwhile
            }
            if (zone.curSize + zone.elemSize > zone.maxSize) {
                if (zone.exhaustible) {
                    return false;
                }
                if (zone.expandable) {
                    zone.maxSize += zone.maxSize >> 1;
                } else {
                    empty = true;
                }
            }
        }
        if (empty) { // panics outside the zone lock: the panic's snapshot takes zone locks
            throw panicker.kernel("osfmk/kern/zalloc.c", 3548, site,
                    CFormat.format("zalloc: zone \"%s\" empty.", zone.name));
        }
        long addr = allocateFromMap(zone.allocSize);
        if (addr == 0) {
            // XNU retries after a zone GC; three KERN_NO_SPACE answers in a row end in the panic.
            zoneGc();
            addr = allocateFromMap(zone.allocSize);
            if (addr == 0) {
                if (!canBlock) {
                    return false;
                }
                Zone largest = largestZone();
                throw panicker.zone("osfmk/kern/zalloc.c", EXHAUSTED_PANIC_LINE, site, CFormat.format(
                        "zalloc: zone map exhausted while allocating from zone %s, likely due to memory leak in zone %s "
                                + "(%lu total bytes, %d elements allocated)",
                        zone.name, largest.name, largest.curSize, (int) largest.count));
            }
        }
        ZoneChunk chunk = new ZoneChunk(zone, addr, zone.elemsPerChunk);
        synchronized (map) {
            map.map(chunk, zone.allocSize);
            checkPressure();
        }
        synchronized (zone) {
            zone.addChunk(chunk);
        }
        return true;
    }

    private long allocateFromMap(long size) {
        synchronized (map) {
            return map.allocate(size);
        }
    }

    /** What a zone's cache asks of the zone, under the zone lock. */
    private final class CacheBackend implements ZoneCache.Zone {
        private final Zone zone;

        CacheBackend(Zone zone) {
            this.zone = zone;
        }

        @Override
        public int attempt(long[] into, int max) {
            synchronized (zone) {
                int n = 0;
                while (n < max && zone.partialHead != null) {
                    ZoneChunk chunk = zone.partialHead;
                    if (chunk.freeCount == chunk.capacity()) {
                        zone.emptyChunks--;
                    }
                    into[n++] = chunk.address(chunk.popForCache());
                    if (chunk.freeCount == 0) {
                        zone.unlinkPartial(chunk);
                    }
                    zone.count++;
                    zone.sumCount++;
                }
                return n;
            }
        }

        @Override
        public void drain(long[] elements, int count, java.util.function.LongConsumer validate) {
            // XNU checks each canary under the zone lock; the harness checks them all first, so that a
            // panic, whose snapshot takes zone locks, never starts while this thread holds one.
            for (int i = count - 1; i >= 0; i--) {
                validate.accept(elements[i]);
            }
            synchronized (zone) {
                for (int i = count - 1; i >= 0; i--) {
                    long addr = elements[i];
                    ZoneChunk chunk = map.chunkAt(addr);
                    int index = elementIndex(chunk, addr);
                    if (!chunk.isCached(index)) {
                        continue; // a second copy of a double free (XNU modes), or still live: not the zone's
                    }
                    boolean wasFull = chunk.freeCount == 0;
                    chunk.pushFromCache(index);
                    zone.count--;
                    if (wasFull) {
                        zone.linkPartial(chunk);
                    }
                    if (chunk.freeCount == chunk.capacity()) {
                        zone.emptyChunks++;
                    }
                }
            }
        }
    }

    /**
     * The zcache canaries of elements whose page was never written: the first and last word of
     * every element of a cached zone read {@code zcache_canary ^ element}, the rest reads as poison.
     * (On XNU the one element zalloc's slow path hands out right after growing a zone has
     * {@code ZP_POISON} there instead; the harness fills a magazine from the new chunk.)
     */
    private final class CanaryOverlay implements SparseMemory.Overlay {
        @Override
        public long word(long addr, long fill) {
            ZoneChunk chunk = map.chunkAt(addr);
            if (chunk == null || chunk.zone.cache == null) {
                return fill;
            }
            long elemSize = chunk.zone.elemSize;
            long offset = (addr - chunk.base) % elemSize;
            long element = addr - offset;
            if (elementIndex(chunk, element) >= chunk.capacity() || (offset != 0 && offset != elemSize - 8)) {
                return fill;
            }
            return zcacheCanary ^ element;
        }

        @Override
        public void initPage(long base, byte[] page) {
            ZoneChunk chunk = map.chunkAt(base);
            if (chunk == null || chunk.zone.cache == null) {
                return;
            }
            long elemSize = chunk.zone.elemSize;
            long end = base + page.length;
            long first = chunk.base + Math.max(0, (base - chunk.base) / elemSize - 1) * elemSize;
            for (long element = first; element < end && elementIndex(chunk, element) < chunk.capacity(); element += elemSize) {
                long value = zcacheCanary ^ element;
                long last = element + elemSize - 8;
                if (element >= base) {
                    SparseMemory.putWord(page, (int) (element - base), value);
                }
                if (last >= base && last < end) {
                    SparseMemory.putWord(page, (int) (last - base), value);
                }
            }
        }
    }

    private void checkPressure() {
        if (pressureHandler == null || jetsamLimitPercent >= 100) {
            return;
        }
        // is_zone_map_nearing_exhaustion(): size > capacity * zone_map_jetsam_limit / 100.
        long limit = map.capacity * jetsamLimitPercent / 100;
        long size = map.size();
        long step = map.capacity >>> 8;
        if (size <= limit) {
            // Only a retreat of a full step re-arms the GC thread at once: the pages a collection
            // gives back take the map a little under the limit, and the next chunk crosses it again.
            if (size + step <= limit) {
                lastPressureSize = 0;
            }
            return;
        }
        // The GC thread runs again only after the map has grown by another 1/256 of its capacity,
        // which paces the kills the way XNU's asynchronous wakeups do.
        if (lastPressureSize == 0 || size - lastPressureSize >= step) {
            lastPressureSize = size;
            pressurePending.set(true);
        }
    }

    /**
     * {@code zone_gc()}: every collectable zone gives its completely free chunks back to the zone
     * map. Returns the bytes released.
     */
    public long zoneGc() {
        synchronized (gcLock) {
            long released = 0;
            for (Zone zone : zones) {
                if (!zone.collectable) {
                    continue;
                }
                if (zone.cache != null) {
                    zone.cache.drainDepot();
                }
                List<ZoneChunk> empty;
                synchronized (zone) {
                    if (zone.emptyChunks == 0) {
                        continue;
                    }
                    // The empty chunks are on the partial list, a short walk where the chunk list may hold
                    // hundreds of thousands; they go back from the highest list position down, the order of
                    // a walk of the whole list from its end.
                    empty = new ArrayList<>(zone.emptyChunks);
                    for (ZoneChunk chunk = zone.partialHead; chunk != null; chunk = chunk.nextPartial) {
                        if (chunk.freeCount == chunk.capacity()) {
                            empty.add(chunk);
                        }
                    }
                    empty.sort(BY_LIST_POSITION_DESCENDING);
                    for (ZoneChunk chunk : empty) {
                        zone.removeChunk(chunk);
                    }
                }
                for (ZoneChunk chunk : empty) {
                    synchronized (map) {
                        map.unmap(chunk.base, zone.allocSize);
                        map.release(chunk.base, zone.allocSize);
                    }
                    if (chunk.touched) {
                        memory.discard(chunk.base, zone.allocSize);
                    }
                    released += zone.allocSize;
                }
            }
            return released;
        }
    }

    /** The zone with the largest {@code cur_size} (ties: the earlier zone). */
    public Zone largestZone() {
        Zone largest = zones.get(0);
        for (Zone zone : zones) {
            if (zone.curSize > largest.curSize) {
                largest = zone;
            }
        }
        return largest;
    }

    /**
     * Visits the live elements summed per zone and call site: count, requested bytes and the
     * lowest {@code sampleAddresses} addresses. Elements that carry an aux datum (an OSMalloc tag)
     * are visited one by one instead, since the tag is part of what groups them. One pass over the
     * chunks' metadata arrays, a few nanoseconds per element: the snapshot of a panic with 137
     * million live elements costs well under a second.
     */
    public void forEachLiveGroup(int sampleAddresses, LiveElementVisitor tagged, LiveGroupVisitor groups) {
        int sites = ledger.siteCount();
        for (Zone zone : zones) {
            if (zone.count == 0) {
                continue;
            }
            long[] count = new long[sites];
            long[] requested = new long[sites];
            long[][] lowest = new long[sites][];
            int[] kept = new int[sites];
            synchronized (zone) { // the chunk list, not the elements: those may change as we read
                for (ZoneChunk chunk : zone.chunks) {
                    if (chunk.freeCount != chunk.capacity()) {
                        sumChunk(zone, chunk, count, requested, lowest, kept, sampleAddresses, tagged);
                    }
                }
            }
            for (int site = 0; site < sites; site++) {
                if (count[site] > 0) {
                    groups.group(zone, site, count[site], requested[site], java.util.Arrays.copyOf(lowest[site], kept[site]));
                }
            }
        }
    }

    /** Adds one chunk's live elements to the sums (a method of its own, so that the JIT compiles it whole). */
    private static void sumChunk(Zone zone, ZoneChunk chunk, long[] count, long[] requested, long[][] lowest, int[] kept,
                                 int max, LiveElementVisitor tagged) {
        long elemSize = zone.elemSize;
        int capacity = chunk.capacity();
        if (chunk.uniform()) {
            // One site and size for every live element: sum them at once, and look only at the first few
            // live ones for the lowest addresses (addresses rise within a chunk).
            int site = chunk.uniformSite();
            long live = zone.cache != null ? chunk.liveCount() : capacity - chunk.freeCount;
            if (live == 0 || site < 0 || site >= count.length) {
                return; // only cached elements, or a site registered while this snapshot ran
            }
            count[site] += live;
            requested[site] += live * chunk.uniformRequested();
            for (int i = 0, seen = 0; i < capacity && seen < max; i++) {
                if (chunk.isAllocated(i)) {
                    long address = chunk.base + i * elemSize;
                    if (kept[site] == max && Long.compareUnsigned(address, lowest[site][max - 1]) >= 0) {
                        break;
                    }
                    keepLowest(lowest, kept, site, address, max);
                    seen++;
                }
            }
            return;
        }
        for (int i = 0; i < capacity; i++) {
            if (!chunk.isAllocated(i)) {
                continue;
            }
            int site = chunk.site(i);
            if (site < 0 || site >= count.length) {
                continue; // a site registered while this snapshot ran
            }
            long address = chunk.base + i * elemSize;
            long aux = chunk.aux(i);
            if (aux != 0) {
                tagged.visit(zone, address, site, chunk.requested(i), aux);
                continue;
            }
            count[site]++;
            requested[site] += chunk.requested(i);
            if (kept[site] < max || Long.compareUnsigned(address, lowest[site][max - 1]) < 0) {
                keepLowest(lowest, kept, site, address, max);
            }
        }
    }

    /** Keeps the {@code max} lowest addresses (unsigned) seen for a site, sorted. */
    private static void keepLowest(long[][] lowest, int[] kept, int site, long address, int max) {
        int n = kept[site];
        long[] kept0 = lowest[site];
        if (n == max && Long.compareUnsigned(address, kept0[n - 1]) >= 0) {
            return;
        }
        if (kept0 == null) {
            kept0 = lowest[site] = new long[Math.max(1, max)];
        }
        int at = n == max ? n - 1 : n;
        while (at > 0 && Long.compareUnsigned(kept0[at - 1], address) > 0) {
            kept0[at] = kept0[at - 1];
            at--;
        }
        kept0[at] = address;
        if (n < max) {
            kept[site] = n + 1;
        }
    }

    /** Receives the groups of {@link #forEachLiveGroup}. */
    @FunctionalInterface
    public interface LiveGroupVisitor {
        void group(Zone zone, int site, long count, long requestedBytes, long[] lowestAddresses);
    }

    /** Receives the live elements {@link #forEachLiveGroup} samples. */
    @FunctionalInterface
    public interface LiveElementVisitor {
        void visit(Zone zone, long address, int site, long requested, long aux);
    }

    public List<Zone> zones() {
        return Collections.unmodifiableList(zones);
    }

    public Zone zone(String name) {
        for (Zone zone : zones) {
            if (zone.name.equals(name)) {
                return zone;
            }
        }
        return null;
    }

    /** {@code zone_map->size}. */
    public long zoneMapSize() {
        synchronized (map) {
            return map.size();
        }
    }

    /** The simulated CPUs the zone caches are kept per. */
    public Cpus cpus() {
        return cpus;
    }

    /** {@code zcache_canary} of this boot. */
    public long zcacheCanary() {
        return zcacheCanary;
    }

    public long zoneMapCapacity() {
        return map.capacity;
    }

    public int jetsamLimitPercent() {
        return jetsamLimitPercent;
    }

    public long nopoisonCookie() {
        return nopoisonCookie;
    }

    public long poisonedCookie() {
        return poisonedCookie;
    }
}
