package dev.kextharness.kernel.kalloc;

import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.FreeFindings;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Traps;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;

/**
 * kalloc: the general-purpose kernel heap of xnu-6153 (osfmk/kern/kalloc.c). Sizes up to 16384
 * come from the 27 kalloc.N zones (smallest bucket that fits); larger ones are page-rounded
 * blocks of kalloc_map or kernel_map. {@code kfree} takes the size, and the size, not the
 * address, chooses the zone, with XNU's panics when they disagree.
 */
public final class Kalloc {
    /** The macOS x86_64 bucket sizes of xnu-6153 ({@code k_zone_config}). */
    public static final int[] BUCKETS = {16, 32, 48, 64, 80, 96, 128, 160, 192, 224, 256, 288, 368, 400, 512,
            576, 768, 1024, 1152, 1280, 1664, 2048, 4096, 6144, 8192, 12288, 16384};
    /** Buckets with a per-CPU cache (zcache) on Catalina. */
    private static final boolean[] CACHING = {true, true, true, true, true, true, true, true, true, true, true,
            true, true, true, true, true, true, true, false, false, false, true, true, false, true, false, false};
    /** {@code kalloc_max = 2 x 16384}. */
    public static final long KALLOC_MAX = 32768;
    /** {@code kalloc_max_prerounded}: the smallest size that is not zone backed. */
    public static final long KALLOC_MAX_PREROUNDED = KALLOC_MAX / 2 + 1;
    /** {@code kalloc_kernmap_size}: rounded sizes from here go to kernel_map. */
    public static final long KALLOC_KERNMAP_SIZE = KALLOC_MAX * 16 + 1;
    private static final int MAX_SIZE_ZDLUT = (2048 / 16 - 1) * 16;

    private final Zalloc zalloc;
    private final Zone[] zones = new Zone[BUCKETS.length];
    private final byte[] lookup = new byte[MAX_SIZE_ZDLUT / 16 + 1];
    private final VmMap kallocMap;
    private final VmMap kernelMap;
    private final SparseMemory memory;
    private final Ledger ledger;
    private final Panicker panicker;
    private final long wiredExtentLimit;
    private boolean fellBack;
    private final dev.kextharness.kernel.log.KernelLog log;

    /** How many freed large blocks keep their history for use-after-free reports (ASan's quarantine, by count). */
    static final int FREED_BLOCKS_KEPT = 4096;
    /** Freed large blocks by start address, until their range is mapped again or the oldest is dropped. */
    private final java.util.TreeMap<Long, FreedBlock> freedBlocks = new java.util.TreeMap<>(Long::compareUnsigned);
    private final java.util.ArrayDeque<FreedBlock> freedOrder = new java.util.ArrayDeque<>();

    /** A freed large block: what it was and who freed it. */
    public record FreedBlock(VmMap.Entry entry, int freeSite) {
    }

    /** Guards the freed-block history (freedBlocks, freedOrder). */
    private final Object freedHistory = new Object();
    /** Guards the kalloc_large counters, as XNU's kalloc_lock does. */
    private final Object largeCounters = new Object();
    private volatile long largeInuse;
    private volatile long largeTotal;
    private volatile long largeMax;
    private volatile long largeSum;
    private volatile long largestAllocated = KALLOC_KERNMAP_SIZE;

    public Kalloc(Zalloc zalloc, VmMap kallocMap, VmMap kernelMap, SparseMemory memory, Ledger ledger,
                  Panicker panicker, long physicalMemory, dev.kextharness.kernel.log.KernelLog log) {
        this.zalloc = zalloc;
        this.kallocMap = kallocMap;
        this.kernelMap = kernelMap;
        this.memory = memory;
        this.ledger = ledger;
        this.panicker = panicker;
        this.log = log;
        this.wiredExtentLimit = Math.max(2L << 30, physicalMemory / 64);
        for (int i = 0; i < BUCKETS.length; i++) {
            zones[i] = zalloc.zinit(BUCKETS[i], BUCKETS[i], BUCKETS[i], "kalloc." + BUCKETS[i]);
            zalloc.setCaching(zones[i], CACHING[i]);
            zalloc.setCallerAcct(zones[i], false);
        }
        int bucket = 0;
        for (int slot = 0; slot < lookup.length; slot++) {
            while (BUCKETS[bucket] < slot * 16) {
                bucket++;
            }
            lookup[slot] = (byte) bucket;
        }
    }

    /** kalloc_map's size: 1/32 of physical memory, at least 16 MiB. */
    public static long kallocMapSize(long physicalMemory) {
        return Math.max(physicalMemory >> 5, 16L << 20);
    }

    /** The kalloc zone for a zone-backed size ({@code <= 16384}); {@code kalloc(0)} maps to kalloc.16. */
    public Zone zoneFor(long size) {
        if (size < MAX_SIZE_ZDLUT) {
            return zones[lookup[(int) ((size + 15) >>> 4)]];
        }
        for (int i = 21; i < BUCKETS.length; i++) {
            if (BUCKETS[i] >= size) {
                return zones[i];
            }
        }
        throw new IllegalArgumentException("no kalloc zone for " + size + " bytes: sizes above 16384 take the large path");
    }

    /** {@code kalloc_bucket_size(n)}: the element size for zone-backed sizes, else {@code round_page(n)}. */
    public long bucketSize(long size) {
        return size < KALLOC_MAX_PREROUNDED && size >= 0 ? zoneFor(size).elemSize() : AddressSpace.roundPage(size);
    }

    /**
     * The single wired extent limit of {@code kernel_memory_allocate}: a large kalloc whose page
     * rounded size is above it fails with {@code KERN_RESOURCE_SHORTAGE}: max(2 GiB, physmem/64).
     */
    public long wiredExtentLimit() {
        return wiredExtentLimit;
    }

    public Zone zone(int index) {
        return zones[index];
    }

    /**
     * {@code kalloc_canblock}: a zone element or a large block, or 0 when it cannot be had
     * (non-blocking callers above 16384, a wired extent over the limit, no room).
     */
    public long kalloc(long size, boolean canBlock, int site) {
        return kalloc(size, canBlock, site, 0);
    }

    /** As {@link #kalloc(long, boolean, int)}, recording an aux datum (an OSMalloc tag) with the block. */
    public long kalloc(long size, boolean canBlock, int site, long aux) {
        if (size >= 0 && size < KALLOC_MAX_PREROUNDED) {
            long addr = zalloc.zalloc(zoneFor(size), site, size, canBlock);
            if (addr != 0 && aux != 0) {
                zalloc.setAux(addr, aux);
            }
            return addr;
        }
        if (!canBlock) {
            return 0;
        }
        return kallocLarge(size, site, aux);
    }

    /**
     * A zone element of {@code size} bytes that the ledger counts as the {@code requested} bytes the
     * caller asked for (also kept as the aux datum): IOKit's aligned and contiguous blocks, whose
     * kalloc request adds a header and alignment slack to the caller's size. Always zone backed.
     */
    public long kallocPadded(long size, long requested, int site) {
        if (size < 0 || size >= KALLOC_MAX_PREROUNDED) {
            throw new IllegalArgumentException("a padded block of " + size + " bytes is not zone backed");
        }
        long addr = zalloc.zalloc(zoneFor(size), site, requested, true);
        if (addr != 0) {
            zalloc.setAux(addr, requested);
        }
        return addr;
    }

    private long kallocLarge(long size, int site, long aux) {
        long rounded = AddressSpace.roundPage(size);
        if (rounded == 0 || rounded < size || Long.compareUnsigned(rounded, wiredExtentLimit) > 0) {
            return 0; // KERN_INVALID_ARGUMENT or KERN_RESOURCE_SHORTAGE
        }
        VmMap.Entry entry = null;
        if (rounded < KALLOC_KERNMAP_SIZE) {
            entry = kallocMap.allocate(rounded, 0, VmMap.Kind.KALLOC, size, site, aux);
            if (entry == null && !fellBack) {
                fellBack = true;
                log.append(CFormat.format("%s: falling back to kernel_map\n", "kalloc_canblock"));
            }
        }
        if (entry == null) {
            entry = kernelMap.allocate(rounded, 0, VmMap.Kind.KALLOC, size, site, aux);
        }
        if (entry == null) {
            return 0;
        }
        forgetFreed(entry.start, entry.end());
        synchronized (largeCounters) { // kalloc_spin_lock
            if (rounded > largestAllocated) {
                largestAllocated = rounded;
            }
            largeInuse++;
            largeTotal += rounded;
            largeSum += rounded;
            largeMax = Math.max(largeMax, largeTotal);
        }
        ledger.allocated(site, size);
        return entry.start;
    }

    /**
     * {@code kfree(data, size)}: the size picks the zone. A size in another bucket than the
     * element's panics with the wrong-zone message; a size in the same bucket is accepted, as XNU
     * does, and reported as a harness finding when it is not the size that was allocated.
     */
    public void kfree(long addr, long size, int site) {
        if (size >= 0 && size < KALLOC_MAX_PREROUNDED) {
            Zone zone = zoneFor(size);
            Zalloc.Freed freed = new Zalloc.Freed();
            zalloc.zfree(zone, addr, site, freed);
            FreeFindings.kfree(ledger, freed.site(), site, addr, freed.requested(), size, zone.name());
            return;
        }
        kfreeLarge(addr, size, site);
    }

    private void kfreeLarge(long addr, long size, int site) {
        long rounded = AddressSpace.roundPage(size);
        if (rounded > largestAllocated) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 868, site, CFormat.format(
                    "kfree: size %lu > kalloc_largest_allocated %lu", rounded, largestAllocated));
        }
        VmMap map = mapFor(addr);
        VmMap.Entry entry = map.entryAt(addr);
        if (entry == null || entry.kind != VmMap.Kind.KALLOC) {
            ledger.report(new Finding(Finding.Kind.LARGE_FREE_MISMATCH, ledger.site(site), addr, CFormat.format(
                    "kfree(%p, %lu) frees no kalloc block: nothing large was allocated at that address "
                            + "(a double kfree or a wrong pointer). Real XNU's kmem_free unmaps the range silently "
                            + "and corrupts the kalloc_large counters.", addr, size)));
            return;
        }
        if (entry.size != rounded) {
            ledger.report(new Finding(Finding.Kind.LARGE_FREE_MISMATCH, ledger.site(site), addr, CFormat.format(
                    "kfree(%p, %lu) of a %lu-byte kalloc block allocated by %s at %s: real XNU's kmem_free would unmap "
                            + "%lu bytes instead of %lu, silently. Pass the size you allocated.",
                    addr, size, entry.requested, ledger.site(entry.site).function(), ledger.site(entry.site).location(),
                    rounded, entry.size)));
        } else if (size != entry.requested && ledger.findingsEnabled() && ledger.sameFamily(entry.site, site)) {
            ledger.report(new Finding(Finding.Kind.SIZE_MISMATCH, ledger.site(site), addr, CFormat.format(
                    "kfree(%p, %lu) of a %lu-byte kalloc block allocated by %s at %s: real XNU accepts it silently "
                            + "(both sizes round to the same %lu pages), but the size must be the one allocated.",
                    addr, size, entry.requested, ledger.site(entry.site).function(), ledger.site(entry.site).location(),
                    entry.size >>> AddressSpace.PAGE_SHIFT)));
        }
        FreeFindings.kfree(ledger, entry.site, site, addr, entry.requested, size, null);
        releaseLarge(map, entry, site);
    }

    private void releaseLarge(VmMap map, VmMap.Entry entry, int freeSite) {
        synchronized (freedHistory) {
            if (!map.remove(entry)) {
                return; // another thread freed it first
            }
            FreedBlock freed = new FreedBlock(entry, freeSite);
            freedBlocks.put(entry.start, freed);
            freedOrder.addLast(freed);
            if (freedOrder.size() > FREED_BLOCKS_KEPT) {
                FreedBlock oldest = freedOrder.removeFirst();
                freedBlocks.remove(oldest.entry().start, oldest);
            }
        }
        memory.discard(entry.start, entry.size);
        synchronized (largeCounters) {
            largeInuse--;
            largeTotal -= entry.size;
        }
        ledger.freed(entry.site, entry.requested);
    }

    /**
     * {@code kfree_addr(addr)}, what {@code _FREE} uses: the size comes from the zone or the vm map
     * entry. Returns the size that was freed.
     */
    public long kfreeAddr(long addr, int site) {
        if (Long.compareUnsigned(addr, AddressSpace.VM_MIN_KERNEL_AND_KEXT_ADDRESS) < 0) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 660, site, CFormat.format(
                    "kfree on an address not in the kernel & kext address range! addr: %p\n", addr));
        }
        Zone zone = zalloc.zoneOf(addr);
        if (zone != null) {
            Zalloc.Freed freed = new Zalloc.Freed();
            zalloc.zfree(zone, addr, site, freed);
            FreeFindings.kfree(ledger, freed.site(), site, addr, freed.requested(), -1, zone.name());
            return zone.elemSize();
        }
        VmMap map = mapFor(addr);
        VmMap.Entry entry = map.lookup(addr);
        if (entry == null) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 555, site, CFormat.format(
                    "Attempting to lookup/free an address not allocated via kalloc! (vm_map_lookup_entry() failed map: %p, addr: %p)\n",
                    map.structAddress(), addr));
        }
        if (entry.start != addr) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 559, site, CFormat.format(
                    "Attempting to lookup/free the middle of a kalloc'ed element! (map: %p, addr: %p, entry: %p)\n",
                    map.structAddress(), addr, map.entryStructAddress(entry)));
        }
        if (entry.kind != VmMap.Kind.KALLOC) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 563, site, CFormat.format(
                    "Attempting to lookup/free an address not managed by kalloc! (map: %p, addr: %p, entry: %p)\n",
                    map.structAddress(), addr, map.entryStructAddress(entry)));
        }
        FreeFindings.kfree(ledger, entry.site, site, addr, entry.requested, -1, null);
        releaseLarge(map, entry, site);
        return entry.size;
    }

    /** {@code kalloc_size(addr)}: the element size, or the length of the vm entry that starts at addr. */
    public long kallocSize(long addr) {
        Zone zone = zalloc.zoneOf(addr);
        if (zone != null) {
            return zone.elemSize();
        }
        VmMap.Entry entry = mapFor(addr).entryAt(addr);
        return entry == null ? 0 : entry.size;
    }

    /** The freed large block whose range holds {@code addr} and was not mapped again since, or null. */
    public FreedBlock freedBlockAt(long addr) {
        synchronized (freedHistory) {
            var floor = freedBlocks.floorEntry(addr);
            return floor != null && floor.getValue().entry().contains(addr) ? floor.getValue() : null;
        }
    }

    /** Drops the history of freed blocks that overlap a range mapped again. */
    private void forgetFreed(long start, long end) {
        synchronized (freedHistory) {
            if (freedBlocks.isEmpty()) {
                return;
            }
            var floor = freedBlocks.floorEntry(start);
            if (floor != null && Long.compareUnsigned(floor.getValue().entry().end(), start) > 0) {
                freedBlocks.remove(floor.getKey());
            }
            freedBlocks.subMap(start, true, end, false).clear();
        }
    }

    /** The live large block that starts at {@code addr}, or null. */
    public VmMap.Entry largeBlock(long addr) {
        VmMap.Entry entry = mapFor(addr).entryAt(addr);
        return entry != null && entry.kind == VmMap.Kind.KALLOC ? entry : null;
    }

    public long largeInuse() {
        return largeInuse;
    }

    /** {@code kalloc_large_total}: bytes in large blocks now (zprint's Kalloc.Large). */
    public long largeTotal() {
        return largeTotal;
    }

    public long largeMax() {
        return largeMax;
    }

    public long largeSum() {
        return largeSum;
    }

    public long largestAllocated() {
        return largestAllocated;
    }

    /** The aux datum (an OSMalloc tag) recorded with the live block at {@code addr}, or 0. */
    public long auxOf(long addr) {
        VmMap.Entry entry = largeBlock(addr);
        if (entry != null) {
            return entry.aux;
        }
        Zalloc.Element element = zalloc.element(addr);
        return element != null && element.live() ? element.aux() : 0;
    }

    /** The vm map a large block at {@code addr} lives in: kalloc_map, else kernel_map. */
    public VmMap mapFor(long addr) {
        return kallocMap.inRange(addr) ? kallocMap : kernelMap;
    }
}
