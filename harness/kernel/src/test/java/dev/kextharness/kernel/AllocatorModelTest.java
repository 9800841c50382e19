package dev.kextharness.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.malloc.BsdMalloc;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import dev.kextharness.kernel.report.IoAllocCounters;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * A long random sequence of allocations and frees of every family, small and large, checked against
 * a simple model (address to family, size, site): at the end every zone's count, every site's live
 * count and bytes, the snapshot totals, the kalloc large counters, the IOKit counters and the OSMalloc
 * tag refcounts must be what the model says, and no two live blocks may ever overlap. The families:
 * kalloc, _MALLOC, _MALLOC_ZONE (the shared mbuf zone and kalloc), OSMalloc, and IOKit's IOMalloc,
 * IOMallocZero, IOMallocAligned, IOMallocContiguous and IOMallocPageable.
 */
class AllocatorModelTest {
    private static final long SEED = 0x6153_141_1L;
    private static final int OPERATIONS = 200_000;
    private static final int[] EDGE_SIZES = {0, 1, 15, 16, 17, 2031, 2032, 2033, 2047, 2048, 2049, 4095, 4096, 4097,
            8192, 8193, 12288, 12289, 16383, 16384, 16385, 20480, 524287, 524288, 524289};

    private enum Fam { KALLOC, MALLOC, MALLOC_ZONE, OSMALLOC, IOMALLOC, IOMALLOC_ZERO, IOMALLOC_ALIGNED,
        IOMALLOC_CONTIGUOUS, IOMALLOC_PAGEABLE }

    /**
     * One live block as the model sees it: {@code addr} is what the allocator returned, {@code base}
     * the start of the zone element or page run that holds it (IOKit's aligned and contiguous
     * variants return a pointer inside a larger allocation); {@code type} is _MALLOC_ZONE's type.
     */
    private record Block(long addr, long base, Fam fam, long size, int site, Tag tag, String zone, long wired,
                         boolean large, int type) {
        long end() {
            return base + wired;
        }
    }

    /** An OSMalloc tag as the model sees it. */
    private static final class Tag {
        final long addr;
        final String name;
        final boolean pageable;
        long refcnt = 1;
        boolean released;

        Tag(long addr, String name, boolean pageable) {
            this.addr = addr;
            this.name = name;
            this.pageable = pageable;
        }
    }

    private final Random random = new Random(SEED);
    private TestKernel t;
    private Kernel kernel;
    private final Map<Long, Block> live = new HashMap<>();
    private final List<Long> liveList = new ArrayList<>();
    private final Map<Long, Integer> liveIndex = new HashMap<>();
    private final List<Tag> tags = new ArrayList<>();
    private final Map<Integer, long[]> expectedSite = new HashMap<>(); // live count, live bytes, total count
    private final Map<String, long[]> expectedZone = new LinkedHashMap<>(); // count delta, allocations delta
    private int tagSerial;
    private long largeInuse;
    private long largeTotal;
    private long largeSum;
    private long largeMax;
    private long largestAllocated = Kalloc.KALLOC_KERNMAP_SIZE;
    private long kallocMapLive;
    private long kallocMapPeak;
    private long iomalloc;
    private long iopageable;
    private long allocations;
    private final Map<Fam, Long> allocationsByFamily = new EnumMap<>(Fam.class);
    private long nulls;

    private int[] kallocSites;
    private int[] mallocSites;
    private int[] osmallocSites;
    private int[] iomallocSites;
    private int[] mallocZoneSites;
    private int[] iokitVariantSites;
    private int kallocNoblockSite;
    private int mallocNowaitSite;
    private int osmallocNowaitSite;
    private int tagallocSite;

    @Test
    void aLongRandomSequenceMatchesTheModel() {
        t = TestKernel.boot();
        kernel = t.kernel;
        kallocSites = sites("kalloc", 3);
        mallocSites = sites("_MALLOC", 3);
        osmallocSites = sites("OSMalloc", 3);
        iomallocSites = sites("IOMalloc", 3);
        mallocZoneSites = sites("_MALLOC_ZONE", 2);
        iokitVariantSites = new int[]{t.newSite("IOMallocZero"), t.newSite("IOMallocAligned"),
                t.newSite("IOMallocContiguous"), t.newSite("IOMallocPageable")};
        kallocNoblockSite = t.site("kalloc_noblock");
        mallocNowaitSite = t.site("_MALLOC");
        osmallocNowaitSite = t.site("OSMalloc_nowait");
        tagallocSite = t.site("OSMalloc_Tagalloc");

        Map<String, long[]> baseline = new LinkedHashMap<>();
        for (Zone zone : kernel.zalloc().zones()) {
            baseline.put(zone.name(), new long[]{zone.liveCount(), zone.totalAllocations()});
            expectedZone.put(zone.name(), new long[2]);
        }
        for (int i = 0; i < 3; i++) {
            newTag(false);
        }
        newTag(true);

        for (int op = 1; op <= OPERATIONS; op++) {
            int target = 3000;
            boolean free = !liveList.isEmpty() && random.nextInt(100) < (liveList.size() > target ? 70 : 45);
            if (random.nextInt(1000) == 0) {
                tagChurn();
            } else if (free) {
                freeRandom();
            } else {
                allocateRandom();
            }
            if (op % 20_000 == 0) {
                checkNoOverlap();
            }
        }

        assertThat(kernel.panicked()).isFalse();
        assertThat(allocations).isGreaterThan(OPERATIONS / 3);
        assertThat(nulls).isPositive();
        assertThat(allocationsByFamily.keySet()).containsExactlyInAnyOrder(Fam.values());
        assertThat(live.values().stream().filter(b -> b.base != b.addr && b.zone != null)).isNotEmpty();
        assertThat(live.values().stream().filter(b -> "mbuf".equals(b.zone))).isNotEmpty();
        checkNoOverlap();
        checkEveryBlockIsWhereTheModelSaysItIs();
        checkCounters(baseline);

        // Free everything: the kernel must be back to its boot state.
        while (!liveList.isEmpty()) {
            freeRandom();
        }
        for (Tag tag : new ArrayList<>(tags)) {
            if (!tag.released) {
                tagfree(tag);
            }
        }
        assertThat(tags).isEmpty();
        checkCounters(baseline);
        assertThat(kernel.snapshot().kext(TestKernel.BUNDLE_ID).isEmpty()).isTrue();
        assertThat(kernel.kalloc().largeInuse()).isZero();
        assertThat(kernel.kalloc().largeTotal()).isZero();
        assertThat(kernel.iokit().iomallocAllocation()).isZero();
        assertThat(kernel.iokit().pageableAllocation()).isZero();
        assertThat(kernel.osmalloc().liveTags()).isEmpty();
    }

    private int[] sites(String function, int n) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = t.newSite(function);
        }
        return ids;
    }

    // ---------------------------------------------------------------------------------------------
    // Operations

    private long randomSize() {
        int r = random.nextInt(100);
        if (r < 60) {
            return random.nextInt(1025);
        } else if (r < 85) {
            return 1025 + random.nextInt(16384 - 1024);
        } else if (r < 95) {
            return 16385 + random.nextInt(600_000);
        }
        return EDGE_SIZES[random.nextInt(EDGE_SIZES.length)];
    }

    private void allocateRandom() {
        long size = randomSize();
        boolean canBlock = random.nextInt(10) != 0;
        Fam fam = Fam.values()[random.nextInt(Fam.values().length)];
        switch (fam) {
            case KALLOC -> {
                int site = canBlock ? kallocSites[random.nextInt(3)] : kallocNoblockSite;
                long addr = kernel.kalloc().kalloc(size, canBlock, site);
                expectNullOnlyWhenNonBlockingAndLarge(addr, size, canBlock);
                record(addr, fam, size, site, null);
            }
            case MALLOC -> {
                int site = canBlock ? mallocSites[random.nextInt(3)] : mallocNowaitSite;
                boolean zero = size <= 64 && random.nextInt(20) == 0;
                int flags = (canBlock ? 0 : BsdMalloc.M_NOWAIT) | (zero ? BsdMalloc.M_ZERO : 0);
                long addr = kernel.malloc().malloc(size, TestKernel.M_TEMP, flags, site);
                if (size == 0) {
                    assertThat(addr).isZero();
                    nulls++;
                    return;
                }
                expectNullOnlyWhenNonBlockingAndLarge(addr, size, canBlock);
                if (addr != 0 && zero) {
                    assertThat(kernel.memory().load(addr, (int) Math.min(8, size))).isZero();
                }
                record(addr, fam, size, site, null);
            }
            case OSMALLOC -> {
                // A correct kext allocates only with a tag it still holds (OSMalloc with a released tag is a finding).
                List<Tag> held = tags.stream().filter(x -> !x.released).toList();
                if (held.isEmpty()) {
                    return;
                }
                Tag tag = held.get(random.nextInt(held.size()));
                int site = canBlock ? osmallocSites[random.nextInt(3)] : osmallocNowaitSite;
                long addr = kernel.osmalloc().osmalloc((int) size, tag.addr, canBlock, site);
                if (!canBlock && tag.pageable) {
                    assertThat(addr).isZero();
                    nulls++;
                    return;
                }
                expectNullOnlyWhenNonBlockingAndLarge(addr, size, canBlock);
                if (addr != 0) {
                    tag.refcnt++;
                }
                record(addr, fam, size, site, tag);
                assertThat(kernel.osmalloc().refcnt(tag.addr)).isEqualTo(tag.refcnt);
            }
            case IOMALLOC -> {
                int site = iomallocSites[random.nextInt(3)];
                long addr = kernel.iokit().ioMalloc(size, site);
                assertThat(addr).isNotZero();
                iomalloc += size;
                record(addr, fam, size, site, null);
            }
            case MALLOC_ZONE -> allocateMallocZone(size, canBlock);
            case IOMALLOC_ZERO -> {
                long addr = kernel.iokit().ioMallocZero(size, iokitVariantSites[0]);
                assertThat(addr).isNotZero();
                if (size > 0) {
                    assertThat(kernel.memory().load(addr, (int) Math.min(8, size))).isZero();
                    assertThat(kernel.memory().load(addr + size - 1, 1)).isZero();
                }
                iomalloc += size;
                record(addr, fam, size, iokitVariantSites[0], null);
            }
            case IOMALLOC_ALIGNED -> allocateAligned(size);
            case IOMALLOC_CONTIGUOUS -> allocateContiguous(size);
            case IOMALLOC_PAGEABLE -> allocatePageable(size);
            default -> throw new AssertionError(fam);
        }
    }

    /** M_RTABLE of exactly MSIZE comes from the shared mbuf zone; any other size, or M_PCB, from kalloc. */
    private void allocateMallocZone(long size, boolean canBlock) {
        boolean mbuf = random.nextInt(4) == 0;
        int type = mbuf || random.nextBoolean() ? TestKernel.M_RTABLE : TestKernel.M_PCB;
        long requested = mbuf ? 256 : size;
        int site = mallocZoneSites[random.nextInt(mallocZoneSites.length)];
        long addr = kernel.malloc().mallocZone(requested, type, canBlock ? 0 : BsdMalloc.M_NOWAIT, site);
        expectNullOnlyWhenNonBlockingAndLarge(addr, requested, canBlock);
        if (addr == 0) {
            return;
        }
        if (type == TestKernel.M_RTABLE && requested == 256) {
            assertThat(kernel.zalloc().zoneOf(addr).name()).isEqualTo("mbuf");
            recordZoneElement(addr, addr, Fam.MALLOC_ZONE, requested, site, "mbuf", type);
        } else {
            record(addr, Fam.MALLOC_ZONE, requested, site, null, type);
        }
    }

    /** XNU's branches: whole pages from {@code size + 16 >= page}, else a kalloc (or page run) block with a header. */
    private void allocateAligned(long size) {
        long align = 1L << random.nextInt(14); // 1 to 8192: above a page too
        int site = iokitVariantSites[1];
        long addr = kernel.iokit().ioMallocAligned(size, align, site);
        if (size == 0) {
            assertThat(addr).isZero();
            nulls++;
            return;
        }
        assertThat(addr).isNotZero();
        assertThat(addr % align).as("IOMallocAligned(%d, %d)", size, align).isZero();
        iomalloc += size;
        if (size + 16 >= AddressSpace.PAGE_SIZE) {
            recordPages(addr, addr, Fam.IOMALLOC_ALIGNED, size, site, AddressSpace.roundPage(size));
            return;
        }
        long adjusted = size + 16 + align - 1;
        long base = headerAllocation(addr, size, adjusted);
        if (adjusted >= AddressSpace.PAGE_SIZE) {
            recordPages(addr, base, Fam.IOMALLOC_ALIGNED, size, site, AddressSpace.roundPage(adjusted));
        } else {
            recordZoneElement(addr, base, Fam.IOMALLOC_ALIGNED, size, site, zoneFor(adjusted).name(), 0);
        }
    }

    /**
     * With a physical address, {@code 2 * size + 16 > page} or an alignment above a page, whole
     * pages; else a header block that never straddles a page.
     */
    private void allocateContiguous(long size) {
        long align = 1L << random.nextInt(14);
        boolean physical = random.nextInt(4) == 0;
        long[] physicalAddress = physical ? new long[1] : null;
        int site = iokitVariantSites[2];
        long addr = kernel.iokit().ioMallocContiguous(size, align, physicalAddress, site);
        if (size == 0) {
            assertThat(addr).isZero();
            nulls++;
            return;
        }
        assertThat(addr).isNotZero();
        assertThat(addr % align).as("IOMallocContiguous(%d, %d)", size, align).isZero();
        iomalloc += size;
        if (physical || 2 * size + 16 > AddressSpace.PAGE_SIZE || align > AddressSpace.PAGE_SIZE) {
            if (physical) {
                assertThat(physicalAddress[0]).isNotZero();
            }
            recordPages(addr, addr, Fam.IOMALLOC_CONTIGUOUS, size, site, AddressSpace.roundPage(size));
            return;
        }
        long adjusted = 2 * size + 16 + align - 1;
        assertThat(AddressSpace.truncPage(addr)).as("contiguous block straddles a page")
                .isEqualTo(AddressSpace.truncPage(addr + size - 1));
        long base = headerAllocation(addr, size, adjusted);
        recordZoneElement(addr, base, Fam.IOMALLOC_CONTIGUOUS, size, site, zoneFor(adjusted).name(), 0);
    }

    /** IOKit's pageable maps: NULL for size 0 or an alignment above a page; counted apart from IOMalloc. */
    private void allocatePageable(long size) {
        long align = random.nextInt(10) == 0 ? 2 * AddressSpace.PAGE_SIZE : 1L << random.nextInt(13);
        int site = iokitVariantSites[3];
        long addr = kernel.iokit().ioMallocPageable(size, align, site);
        if (size == 0 || align > AddressSpace.PAGE_SIZE) {
            assertThat(addr).isZero();
            nulls++;
            return;
        }
        assertThat(addr).isNotZero();
        iopageable += size;
        recordPages(addr, addr, Fam.IOMALLOC_PAGEABLE, size, site, AddressSpace.roundPage(size));
    }

    /** The allocation the 16-byte header before {@code addr} names; the block must lie inside it, after the header. */
    private long headerAllocation(long addr, long size, long adjusted) {
        assertThat(kernel.memory().load(addr - 16, 8)).isEqualTo(adjusted);
        long base = kernel.memory().load(addr - 8, 8);
        assertThat(base).isLessThanOrEqualTo(addr - 16);
        assertThat(addr + size).isLessThanOrEqualTo(base + adjusted);
        return base;
    }

    private void expectNullOnlyWhenNonBlockingAndLarge(long addr, long size, boolean canBlock) {
        if (!canBlock && size >= Kalloc.KALLOC_MAX_PREROUNDED) {
            assertThat(addr).as("non-blocking %d bytes", size).isZero();
            nulls++;
        } else {
            assertThat(addr).as("%d bytes", size).isNotZero();
        }
    }

    private void record(long addr, Fam fam, long size, int site, Tag tag) {
        record(addr, fam, size, site, tag, 0);
    }

    /** A block placed as kalloc places {@code size} bytes (or OSMalloc's pageable pages). */
    private void record(long addr, Fam fam, long size, int site, Tag tag, int type) {
        if (addr == 0) {
            return;
        }
        Block block;
        if (tag != null && tag.pageable && size >= AddressSpace.PAGE_SIZE) {
            block = new Block(addr, addr, fam, size, site, tag, null, AddressSpace.roundPage(size), false, type);
        } else if (size < Kalloc.KALLOC_MAX_PREROUNDED) {
            Zone zone = zoneFor(size);
            block = new Block(addr, addr, fam, size, site, tag, zone.name(), zone.elemSize(), false, type);
            expectedZone.get(zone.name())[0]++;
            expectedZone.get(zone.name())[1]++;
        } else {
            long rounded = AddressSpace.roundPage(size);
            block = new Block(addr, addr, fam, size, site, tag, null, rounded, true, type);
            largeInuse++;
            largeTotal += rounded;
            largeSum += rounded;
            largeMax = Math.max(largeMax, largeTotal);
            largestAllocated = Math.max(largestAllocated, rounded);
            if (rounded < Kalloc.KALLOC_KERNMAP_SIZE) {
                kallocMapLive += rounded;
                kallocMapPeak = Math.max(kallocMapPeak, kallocMapLive);
            }
        }
        addLive(block);
    }

    /** A block inside the zone element at {@code base}. */
    private void recordZoneElement(long addr, long base, Fam fam, long size, int site, String zone, int type) {
        Zone z = kernel.zalloc().zone(zone);
        addLive(new Block(addr, base, fam, size, site, null, zone, z.elemSize(), false, type));
        expectedZone.get(zone)[0]++;
        expectedZone.get(zone)[1]++;
    }

    /** A block inside an IOKit page run of {@code wired} bytes at {@code base} in kernel_map. */
    private void recordPages(long addr, long base, Fam fam, long size, int site, long wired) {
        addLive(new Block(addr, base, fam, size, site, null, null, wired, false, 0));
    }

    private void addLive(Block block) {
        assertThat(live).doesNotContainKey(block.addr);
        live.put(block.addr, block);
        liveIndex.put(block.addr, liveList.size());
        liveList.add(block.addr);
        long[] s = expectedSite.computeIfAbsent(block.site, k -> new long[3]);
        s[0]++;
        s[1] += block.size;
        s[2]++;
        allocations++;
        allocationsByFamily.merge(block.fam, 1L, Long::sum);
    }

    private void freeRandom() {
        long addr = liveList.get(random.nextInt(liveList.size()));
        Block b = live.get(addr);
        switch (b.fam) {
            case KALLOC -> kernel.kalloc().kfree(addr, b.size, t.site("kfree"));
            case MALLOC -> kernel.malloc().free(addr, TestKernel.M_TEMP, t.site("_FREE"));
            case MALLOC_ZONE -> kernel.malloc().freeZone(addr, b.size, b.type, t.site("_FREE_ZONE"));
            case OSMALLOC -> kernel.osmalloc().osfree(addr, (int) b.size, b.tag.addr, t.site("OSFree"));
            case IOMALLOC -> {
                kernel.iokit().ioFree(addr, b.size, t.site("IOFree"));
                iomalloc -= b.size;
            }
            case IOMALLOC_ZERO -> {
                kernel.iokit().ioFree(addr, b.size, t.site("IOFree"));
                iomalloc -= b.size;
            }
            case IOMALLOC_ALIGNED -> {
                kernel.iokit().ioFreeAligned(addr, b.size, t.site("IOFreeAligned"));
                iomalloc -= b.size;
            }
            case IOMALLOC_CONTIGUOUS -> {
                kernel.iokit().ioFreeContiguous(addr, b.size, t.site("IOFreeContiguous"));
                iomalloc -= b.size;
            }
            case IOMALLOC_PAGEABLE -> {
                kernel.iokit().ioFreePageable(addr, b.size, t.site("IOFreePageable"));
                iopageable -= b.size;
            }
            default -> throw new AssertionError(b.fam);
        }
        forget(b);
        if (b.tag != null) {
            release(b.tag);
        }
        // A freed zone element reads as poison; the last word of one in a cached zone, as zcache's canary.
        if (b.zone != null && b.wired >= 16) {
            boolean canaryWord = kernel.zalloc().zone(b.zone).caching() && b.wired == 16;
            assertThat(kernel.memory().load(b.base + 8, 8))
                    .isEqualTo(canaryWord ? kernel.zalloc().zcacheCanary() ^ b.base : SparseMemory.ZP_POISON);
        }
    }

    private void forget(Block b) {
        live.remove(b.addr);
        int index = liveIndex.remove(b.addr);
        long last = liveList.remove(liveList.size() - 1);
        if (last != b.addr) {
            liveList.set(index, last);
            liveIndex.put(last, index);
        }
        if (b.zone != null) {
            expectedZone.get(b.zone)[0]--;
        } else if (b.large) {
            largeInuse--;
            largeTotal -= b.wired;
            if (b.wired < Kalloc.KALLOC_KERNMAP_SIZE) {
                kallocMapLive -= b.wired;
            }
        }
        long[] s = expectedSite.get(b.site);
        s[0]--;
        s[1] -= b.size;
    }

    private void tagChurn() {
        List<Tag> freeable = tags.stream().filter(x -> !x.released).toList();
        if (freeable.size() > 1) {
            tagfree(freeable.get(random.nextInt(freeable.size())));
        }
        newTag(random.nextInt(4) == 0);
    }

    private void newTag(boolean pageable) {
        String name = "com.example.tag." + tagSerial++;
        long addr = kernel.osmalloc().tagalloc(name, pageable ? OSMallocTags.OSMT_PAGEABLE : 0, tagallocSite);
        assertThat(kernel.zalloc().zoneOf(addr).name()).isEqualTo("kalloc.96");
        Tag tag = new Tag(addr, name, pageable);
        tags.add(tag);
        expectedZone.get("kalloc.96")[0]++;
        expectedZone.get("kalloc.96")[1]++;
        long[] s = expectedSite.computeIfAbsent(tagallocSite, k -> new long[3]);
        s[0]++;
        s[1] += OSMallocTags.TAG_SIZE;
        s[2]++;
    }

    private void tagfree(Tag tag) {
        kernel.osmalloc().tagfree(tag.addr, t.site("OSMalloc_Tagfree"));
        tag.released = true;
        release(tag);
        if (tags.contains(tag)) {
            assertThat(kernel.osmalloc().state(tag.addr)).isEqualTo(OSMallocTags.OSMT_VALID | OSMallocTags.OSMT_RELEASED);
        }
    }

    /** Drops one reference; a released tag whose last reference goes is freed. */
    private void release(Tag tag) {
        tag.refcnt--;
        if (tag.refcnt == 0) {
            assertThat(tag.released).isTrue();
            tags.remove(tag);
            expectedZone.get("kalloc.96")[0]--;
            long[] s = expectedSite.get(tagallocSite);
            s[0]--;
            s[1] -= OSMallocTags.TAG_SIZE;
        } else {
            assertThat(kernel.osmalloc().refcnt(tag.addr)).isEqualTo(tag.refcnt);
        }
    }

    private Zone zoneFor(long size) {
        for (int i = 0; i < Kalloc.BUCKETS.length; i++) {
            if (Kalloc.BUCKETS[i] >= size) {
                return kernel.kalloc().zone(i);
            }
        }
        throw new AssertionError(size);
    }

    // ---------------------------------------------------------------------------------------------
    // Checks

    private void checkNoOverlap() {
        TreeMap<Long, Long> ranges = new TreeMap<>(Long::compareUnsigned);
        for (Block b : live.values()) {
            assertThat(ranges.put(b.base, b.end())).as("two blocks in one allocation").isNull();
        }
        for (Tag tag : tags) {
            assertThat(ranges.put(tag.addr, tag.addr + 96)).as("tag at a block's address").isNull();
        }
        long previousEnd = 0;
        long previousStart = 0;
        for (Map.Entry<Long, Long> r : ranges.entrySet()) {
            if (previousEnd != 0) {
                assertThat(Long.compareUnsigned(r.getKey(), previousEnd)).as("block %s overlaps the block at %s",
                        Long.toHexString(r.getKey()), Long.toHexString(previousStart)).isGreaterThanOrEqualTo(0);
            }
            previousStart = r.getKey();
            previousEnd = r.getValue();
        }
    }

    private void checkEveryBlockIsWhereTheModelSaysItIs() {
        Zalloc zalloc = kernel.zalloc();
        for (Block b : live.values()) {
            if (b.zone != null) {
                Zalloc.Element e = zalloc.element(b.base);
                assertThat(e.zone().name()).isEqualTo(b.zone);
                assertThat(e.address()).isEqualTo(b.base);
                assertThat(e.live()).isTrue();
                assertThat(e.site()).isEqualTo(b.site);
                assertThat(e.requested()).isEqualTo(b.size);
                assertThat(b.addr % 16).isZero();
                assertThat(b.addr + b.size).isLessThanOrEqualTo(b.end());
            } else if (b.large) {
                VmMap.Entry entry = kernel.kalloc().largeBlock(b.addr);
                assertThat(entry).isNotNull();
                assertThat(entry.size).isEqualTo(b.wired);
                assertThat(entry.site).isEqualTo(b.site);
                // kalloc_map never filled up, so XNU would have put every block below 512 KiB there.
                VmMap expected = b.wired < Kalloc.KALLOC_KERNMAP_SIZE ? kernel.kallocMap() : kernel.kernelMap();
                assertThat(expected.entryAt(b.addr)).as("large block of %d bytes", b.wired).isSameAs(entry);
            } else {
                VmMap.Entry entry = kernel.kernelMap().entryAt(b.base);
                assertThat(entry).as("%s block at %s", b.fam, Long.toHexString(b.base)).isNotNull();
                assertThat(entry.kind).isEqualTo(switch (b.fam) {
                    case OSMALLOC -> VmMap.Kind.PAGEABLE;
                    case IOMALLOC_PAGEABLE -> VmMap.Kind.IOPAGEABLE;
                    default -> VmMap.Kind.KMEM;
                });
                assertThat(entry.size).isEqualTo(b.wired);
                assertThat(entry.requested).isEqualTo(b.size);
                assertThat(entry.site).isEqualTo(b.site);
            }
            if (b.tag != null) {
                assertThat(kernel.kalloc().auxOf(b.addr) == b.tag.addr || b.tag.pageable).isTrue();
            }
        }
    }

    private void checkCounters(Map<String, long[]> baseline) {
        for (Zone zone : kernel.zalloc().zones()) {
            long[] base = baseline.get(zone.name());
            long[] delta = expectedZone.get(zone.name());
            assertThat(zone.liveCount()).as("%s live count", zone.name()).isEqualTo(base[0] + delta[0]);
            assertThat(zone.count()).as("%s count (cached elements are in use)", zone.name())
                    .isEqualTo(zone.liveCount() + zone.cachedElements());
            if (zone.caching()) {
                // The zone's lifetime count grows by whole magazine fills, not one per kalloc.
                assertThat(zone.totalAllocations()).as("%s allocations", zone.name())
                        .isBetween(base[1], base[1] + delta[1] + zone.cachedElements());
            } else {
                assertThat(zone.totalAllocations()).as("%s allocations", zone.name()).isEqualTo(base[1] + delta[1]);
            }
            assertThat(zone.curSize()).as("%s cur size", zone.name())
                    .isGreaterThanOrEqualTo(zone.count() * zone.elemSize())
                    .isEqualTo(zone.mappedBytes() / zone.allocSize() * (zone.allocSize() / zone.elemSize()) * zone.elemSize());
            assertThat(zone.mappedBytes() % zone.allocSize()).isZero();
        }
        long zoneTotal = kernel.zalloc().zones().stream().mapToLong(Zone::mappedBytes).sum();
        assertThat(kernel.zalloc().zoneMapSize()).isEqualTo(zoneTotal);

        long modelCount = 0;
        long modelRequested = 0;
        long modelWired = 0;
        for (Map.Entry<Integer, long[]> e : expectedSite.entrySet()) {
            int site = e.getKey();
            assertThat(kernel.ledger().liveCount(site)).as("live count of %s", t.callSite(site)).isEqualTo(e.getValue()[0]);
            assertThat(kernel.ledger().liveBytes(site)).as("live bytes of %s", t.callSite(site)).isEqualTo(e.getValue()[1]);
            assertThat(kernel.ledger().totalCount(site)).as("allocations of %s", t.callSite(site)).isEqualTo(e.getValue()[2]);
        }
        for (Block b : live.values()) {
            modelCount++;
            modelRequested += b.size;
            modelWired += b.wired;
        }
        modelCount += tags.size();
        modelRequested += (long) tags.size() * OSMallocTags.TAG_SIZE;
        modelWired += tags.size() * 96L;
        LedgerSnapshot snapshot = kernel.snapshot().kext(TestKernel.BUNDLE_ID);
        assertThat(snapshot.count()).isEqualTo(modelCount);
        assertThat(snapshot.requestedBytes()).isEqualTo(modelRequested);
        assertThat(snapshot.wiredBytes()).isEqualTo(modelWired);
        assertThat(kernel.ledger().liveCountOfKext(TestKernel.LOAD_TAG)).isEqualTo(modelCount);
        for (LedgerSnapshot.Group g : snapshot.groups()) {
            assertThat(g.count()).isPositive();
        }
        for (int site : kallocSites) {
            assertThat(snapshot.filter(g -> g.site().id() == site).count())
                    .isEqualTo(expectedSite.getOrDefault(site, new long[3])[0]);
        }

        assertThat(kernel.kalloc().largeInuse()).isEqualTo(largeInuse);
        assertThat(kernel.kalloc().largeTotal()).isEqualTo(largeTotal);
        assertThat(kernel.kalloc().largeSum()).isEqualTo(largeSum);
        assertThat(kernel.kalloc().largeMax()).isEqualTo(largeMax);
        assertThat(kernel.kalloc().largestAllocated()).isEqualTo(largestAllocated);
        assertThat(kernel.kallocMap().size()).isEqualTo(kallocMapLive);
        // kalloc_map never held more than its capacity, so XNU never fell back to kernel_map.
        assertThat(kallocMapPeak).isLessThan(kernel.kallocMap().capacity());
        assertThat(kernel.log().text()).doesNotContain("falling back to kernel_map");

        // ioalloccount: no OSObjects here, IOMalloc and its aligned and contiguous kin in one counter,
        // IOMallocPageable in its own.
        IoAllocCounters counters = new IoAllocCounters(kernel.iokit().instanceAllocation(),
                kernel.iokit().containerAllocation(), kernel.iokit().iomallocAllocation(),
                kernel.iokit().pageableAllocation());
        assertThat(counters).isEqualTo(new IoAllocCounters(0, 0, iomalloc, iopageable));

        List<Long> tagAddrs = tags.stream().map(x -> x.addr).toList();
        assertThat(kernel.osmalloc().liveTags()).containsExactlyInAnyOrderElementsOf(tagAddrs);
        for (Tag tag : tags) {
            assertThat(kernel.osmalloc().refcnt(tag.addr)).as("refcnt of %s", tag.name).isEqualTo(tag.refcnt);
            assertThat(kernel.osmalloc().state(tag.addr))
                    .isEqualTo(OSMallocTags.OSMT_VALID | (tag.released ? OSMallocTags.OSMT_RELEASED : 0));
            assertThat(kernel.osmalloc().name(tag.addr)).isEqualTo(tag.name);
        }
        assertThat(kernel.ledger().findings()).isEmpty();
        assertThat(kernel.panicked()).isFalse();
    }
}
