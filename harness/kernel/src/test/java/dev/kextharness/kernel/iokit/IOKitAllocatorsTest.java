package dev.kextharness.kernel.iokit;

import static dev.kextharness.kernel.TestKernel.p;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;
import org.junit.jupiter.api.Test;

/** Fact sheet §5: the IOKit allocators of a RELEASE kernel and the ioalloccount counters. */
class IOKitAllocatorsTest {

    private static long[] counters(TestKernel t) {
        IOKitAllocators io = t.kernel.iokit();
        return new long[]{io.instanceAllocation(), io.containerAllocation(), io.iomallocAllocation(),
                io.pageableAllocation()};
    }

    private static long aligned(TestKernel t, long size, long align) {
        return t.kernel.iokit().ioMallocAligned(size, align, t.site("IOMallocAligned"));
    }

    private static void freeAligned(TestKernel t, long addr, long size) {
        t.kernel.iokit().ioFreeAligned(addr, size, t.site("IOFreeAligned"));
    }

    private static long contiguous(TestKernel t, long size, long align, long[] phys) {
        return t.kernel.iokit().ioMallocContiguous(size, align, phys, t.site("IOMallocContiguous"));
    }

    private static void freeContiguous(TestKernel t, long addr, long size) {
        t.kernel.iokit().ioFreeContiguous(addr, size, t.site("IOFreeContiguous"));
    }

    private static long pageable(TestKernel t, long size, long align) {
        return t.kernel.iokit().ioMallocPageable(size, align, t.site("IOMallocPageable"));
    }

    private static void freePageable(TestKernel t, long addr, long size) {
        t.kernel.iokit().ioFreePageable(addr, size, t.site("IOFreePageable"));
    }

    @Test
    void countersStartAtZero() {
        TestKernel t = TestKernel.boot();
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
    }

    @Test
    void ioMallocIsKallocAndCountsTheRequestedBytes() {
        TestKernel t = TestKernel.boot();
        long count = t.zone("kalloc.128").liveCount();
        long a = t.ioMalloc(100);
        long b = t.ioMalloc(0); // no header on RELEASE: a 16-byte element
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.128");
        assertThat(t.zoneOf(b)).isEqualTo("kalloc.16");
        assertThat(t.zone("kalloc.128").liveCount()).isEqualTo(count + 1);
        assertThat(counters(t)).containsExactly(0, 0, 100, 0);
        long c = t.ioMalloc(20000);
        assertThat(t.kernel.kalloc().largeBlock(c)).isNotNull();
        assertThat(counters(t)).containsExactly(0, 0, 20100, 0);
        t.ioFree(a, 100);
        t.ioFree(b, 0);
        t.ioFree(c, 20000);
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.zone("kalloc.128").liveCount()).isEqualTo(count);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMalloc"))).isZero();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void ioMallocFailureIsNullNeverAPanic() {
        TestKernel t = TestKernel.boot();
        assertThat(t.ioMalloc((2L << 30) + 1)).isZero();
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.kernel.panicked()).isFalse();
    }

    @Test
    void ioFreeOfNullIsANoOp() {
        TestKernel t = TestKernel.boot();
        t.ioMalloc(10);
        t.ioFree(0, 10);
        assertThat(counters(t)).containsExactly(0, 0, 10, 0);
        assertThat(t.kernel.panicked()).isFalse();
    }

    @Test
    void ioFreeWithAnotherBucketPanicsLikeKfree() {
        TestKernel t = TestKernel.boot();
        long a = t.ioMalloc(100);
        t.assertPanics(() -> t.ioFree(a, 10),
                "Element " + p(a) + " from zone kalloc.128 caught being freed to wrong zone kalloc.16\n");
    }

    @Test
    void ioMallocZeroZeroesTheRequestedBytes() {
        TestKernel t = TestKernel.boot();
        long a = t.kernel.iokit().ioMallocZero(40, t.site("IOMallocZero"));
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.48");
        for (int i = 0; i < 40; i++) {
            assertThat(t.kernel.memory().load8(a + i)).isZero();
        }
        // The element's last word: zcache's canary, as the magazine handed it out (kalloc.48 is cached).
        assertThat(t.kernel.memory().load(a + 40, 8)).isEqualTo(t.kernel.zalloc().zcacheCanary() ^ a);
        assertThat(counters(t)).containsExactly(0, 0, 40, 0);
        t.ioFree(a, 40);
        assertThat(t.kernel.ledger().findings()).isEmpty(); // IOMallocZero and IOFree are one family
    }

    @Test
    void ioMallocAlignedSmallKeepsAHeaderBeforeTheAlignedPointer() {
        TestKernel t = TestKernel.boot();
        long count = t.zone("kalloc.192").liveCount();
        long a = aligned(t, 100, 64);
        assertThat(a % 64).isZero();
        // 100 + 16 + 63 = 179 bytes from kalloc: a kalloc.192 element holds header and block.
        assertThat(t.zone("kalloc.192").liveCount()).isEqualTo(count + 1);
        long allocationSize = t.kernel.memory().load(a - 16, 8);
        long allocationAddress = t.kernel.memory().load(a - 8, 8);
        assertThat(allocationSize).isEqualTo(179);
        assertThat(t.zoneOf(allocationAddress)).isEqualTo("kalloc.192");
        assertThat(allocationAddress + 16).isLessThanOrEqualTo(a);
        assertThat(a + 100).isLessThanOrEqualTo(allocationAddress + 179);
        assertThat(a).isEqualTo((allocationAddress + 63 + 16) & ~63L);
        assertThat(counters(t)).containsExactly(0, 0, 100, 0);
        assertThat(t.kernel.ledger().liveBytes(t.site("IOMallocAligned"))).as("the caller's size, not 179").isEqualTo(100);
        assertThat(t.kernel.snapshot().family(Family.IOMALLOC_ALIGNED).groups()).singleElement().satisfies(g -> {
            assertThat(g.requestedBytes()).isEqualTo(100);
            assertThat(g.wiredBytes()).isEqualTo(192);
        });

        freeAligned(t, a, 100);
        assertThat(t.zone("kalloc.192").liveCount()).isEqualTo(count);
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMallocAligned"))).isZero();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void ioMallocAlignedRoundsTheAlignmentToAPowerOfTwo() {
        TestKernel t = TestKernel.boot();
        long a = aligned(t, 10, 24); // 24 -> 32
        assertThat(a % 32).isZero();
        assertThat(t.kernel.memory().load(a - 16, 8)).isEqualTo(10 + 16 + 31);
        long b = aligned(t, 10, 0); // 0 -> 1
        assertThat(t.kernel.memory().load(b - 16, 8)).isEqualTo(26);
        assertThat(t.kernel.memory().load(b - 8, 8)).isEqualTo(b - 16);
    }

    @Test
    void ioMallocAlignedOfZeroIsNull() {
        TestKernel t = TestKernel.boot();
        assertThat(aligned(t, 0, 16)).isZero();
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
    }

    @Test
    void ioMallocAlignedOfAPageOrMoreTakesWholePagesWithoutHeader() {
        TestKernel t = TestKernel.boot();
        long a = aligned(t, 4080, 16); // 4080 + 16 >= 4096
        VmMap.Entry entry = t.kernel.kernelMap().entryAt(a);
        assertThat(entry).isNotNull();
        assertThat(entry.size).isEqualTo(4096);
        long b = aligned(t, 10000, 16384);
        assertThat(b % 16384).isZero();
        assertThat(t.kernel.kernelMap().entryAt(b).size).isEqualTo(12288);
        assertThat(counters(t)).containsExactly(0, 0, 14080, 0);
        freeAligned(t, a, 4080);
        freeAligned(t, b, 10000);
        assertThat(t.kernel.kernelMap().entryAt(a)).isNull();
        assertThat(t.kernel.kernelMap().entryAt(b)).isNull();
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMallocAligned"))).isZero();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void ioMallocAlignedWhoseSlackReachesAPageTakesPagesWithAHeader() {
        TestKernel t = TestKernel.boot();
        long a = aligned(t, 4000, 256); // 4000 + 16 < 4096, but 4000 + 16 + 255 >= 4096
        assertThat(a % 256).isZero();
        long allocationSize = t.kernel.memory().load(a - 16, 8);
        long allocationAddress = t.kernel.memory().load(a - 8, 8);
        assertThat(allocationSize).isEqualTo(4271);
        assertThat(t.kernel.kernelMap().entryAt(allocationAddress).size).isEqualTo(8192);
        assertThat(t.kernel.ledger().liveBytes(t.site("IOMallocAligned"))).as("the caller's size, not 4271").isEqualTo(4000);
        assertThat(t.kernel.snapshot().family(Family.IOMALLOC_ALIGNED).wiredBytes()).isEqualTo(8192);
        freeAligned(t, a, 4000);
        assertThat(t.kernel.kernelMap().entryAt(allocationAddress)).isNull();
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMallocAligned"))).isZero();
    }

    @Test
    void ioMallocContiguousNeverStraddlesAPage() {
        TestKernel t = TestKernel.boot();
        // 2 * 800 + 16 = 1616 bytes: kalloc.1664 elements, which do cross page boundaries.
        boolean moved = false;
        long[] blocks = new long[17];
        for (int i = 0; i < blocks.length; i++) {
            long a = contiguous(t, 800, 1, null);
            blocks[i] = a;
            assertThat(AddressSpace.truncPage(a)).as("block %d", i).isEqualTo(AddressSpace.truncPage(a + 799));
            long allocationSize = t.kernel.memory().load(a - 16, 8);
            long allocationAddress = t.kernel.memory().load(a - 8, 8);
            assertThat(allocationSize).isEqualTo(1616);
            assertThat(t.zoneOf(allocationAddress)).isEqualTo("kalloc.1664");
            assertThat(a - 16).isGreaterThanOrEqualTo(allocationAddress);
            assertThat(a + 800).isLessThanOrEqualTo(allocationAddress + 1616);
            if (a != allocationAddress + 16) {
                moved = true;
                assertThat(a & AddressSpace.PAGE_MASK).isZero();
            }
        }
        assertThat(moved).as("some block had to move to the next page").isTrue();
        assertThat(counters(t)).containsExactly(0, 0, 17 * 800, 0);
        assertThat(t.kernel.ledger().liveBytes(t.site("IOMallocContiguous"))).as("the callers' sizes").isEqualTo(17 * 800);
        assertThat(t.kernel.snapshot().family(Family.IOMALLOC_CONTIGUOUS).requestedBytes()).isEqualTo(17 * 800);
        for (long a : blocks) {
            freeContiguous(t, a, 800);
        }
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMallocContiguous"))).isZero();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void ioMallocContiguousAlignment() {
        TestKernel t = TestKernel.boot();
        long a = contiguous(t, 100, 128, null);
        assertThat(a % 128).isZero();
        assertThat(t.kernel.memory().load(a - 16, 8)).isEqualTo(2 * 100 + 16 + 127);
        freeContiguous(t, a, 100);
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
    }

    @Test
    void ioMallocContiguousOfMoreThanHalfAPageTakesPages() {
        TestKernel t = TestKernel.boot();
        long a = contiguous(t, 2041, 1, null); // 2 * 2041 + 16 > 4096
        assertThat(t.zoneOf(a)).isNull();
        assertThat(t.kernel.kernelMap().entryAt(a).size).isEqualTo(4096);
        long b = contiguous(t, 100, 8192, null); // alignment above a page
        assertThat(b % 8192).isZero();
        assertThat(t.kernel.kernelMap().entryAt(b)).isNotNull();
        freeContiguous(t, a, 2041);
        freeContiguous(t, b, 100);
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMallocContiguous"))).isZero();
    }

    @Test
    void ioMallocContiguousWithAPhysicalAddress() {
        TestKernel t = TestKernel.boot();
        long[] phys = new long[1];
        long a = contiguous(t, 100, 1, phys);
        assertThat(a & AddressSpace.PAGE_MASK).isZero();
        assertThat(phys[0]).isNotZero();
        assertThat(phys[0]).isLessThan(1L << 32);
        assertThat(phys[0] & AddressSpace.PAGE_MASK).isZero();
        long[] phys2 = new long[1];
        contiguous(t, 5000, 1, phys2);
        assertThat(phys2[0]).isGreaterThanOrEqualTo(phys[0] + 4096);
        freeContiguous(t, a, 100);
        assertThat(counters(t)).containsExactly(0, 0, 5000, 0);
    }

    @Test
    void ioMallocContiguousOfZeroIsNull() {
        TestKernel t = TestKernel.boot();
        assertThat(contiguous(t, 0, 1, null)).isZero();
    }

    @Test
    void ioMallocPageableCountsIntoPageableAllocation() {
        TestKernel t = TestKernel.boot();
        long a = pageable(t, 100, 4);
        long b = pageable(t, 10000, 4096);
        assertThat(t.kernel.kernelMap().entryAt(a).kind).isEqualTo(VmMap.Kind.IOPAGEABLE);
        assertThat(t.kernel.kernelMap().entryAt(b).size).isEqualTo(12288);
        assertThat(counters(t)).containsExactly(0, 0, 0, 10100);
        freePageable(t, a, 100);
        freePageable(t, b, 10000);
        assertThat(counters(t)).containsExactly(0, 0, 0, 0);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMallocPageable"))).isZero();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void ioMallocPageableLimits() {
        TestKernel t = TestKernel.boot();
        assertThat(pageable(t, 0, 1)).isZero();
        assertThat(pageable(t, (512L << 20) + 1, 1)).isZero();
        assertThat(pageable(t, 100, 8192)).isZero();
        long max = pageable(t, 512L << 20, 4096);
        assertThat(max).isNotZero();
        assertThat(counters(t)).containsExactly(0, 0, 0, 512L << 20);
    }

    @Test
    void ioFreePageableOfAnUnknownAddressPanics() {
        TestKernel t = TestKernel.boot();
        long a = t.ioMalloc(100);
        t.assertPanics(() -> freePageable(t, a, 100), "IOPageableMapForAddress: null");
    }

    @Test
    void ioFreePageableTwicePanics() {
        TestKernel t = TestKernel.boot();
        long a = pageable(t, 8192, 1);
        freePageable(t, a, 8192);
        t.assertPanics(() -> freePageable(t, a, 8192), "IOPageableMapForAddress: null");
    }

    @Test
    void ioFreePageableOfAnOSMallocPageableBlockPanics() {
        // OSMalloc's pageable blocks come from kernel_map, not from IOKit's pageable maps.
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("p", OSMallocTags.OSMT_PAGEABLE);
        long a = t.osmalloc(8192, tag);
        t.assertPanics(() -> freePageable(t, a, 8192), "IOPageableMapForAddress: null");
    }

    @Test
    void ioFreePageableWithAnotherSizeIsAFinding() {
        TestKernel t = TestKernel.boot();
        long a = pageable(t, 8192, 1);
        freePageable(t, a, 8000);
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.SIZE_MISMATCH);
            assertThat(f.message()).isEqualTo("IOFreePageable(" + p(a) + ", 8000) frees a 8192-byte allocation made at "
                    + t.callSite(t.site("IOMallocPageable")).location()
                    + "; real XNU frees by the size you pass, silently. Pass the size you allocated.");
        });
    }

    @Test
    void ioFreeAlignedWithAnotherSizeIsAFinding() {
        TestKernel t = TestKernel.boot();
        long a = aligned(t, 100, 16);
        freeAligned(t, a, 90);
        assertThat(t.kernel.ledger().findings()).singleElement()
                .satisfies(f -> assertThat(f.kind()).isEqualTo(Finding.Kind.SIZE_MISMATCH));
    }

    @Test
    void ioFreeAlignedWithAnotherSizeIsAFindingAlsoWhenTheSlackTookPages() {
        TestKernel t = TestKernel.boot();
        long a = aligned(t, 4000, 256); // header and slack reach a page: whole pages with a header
        freeAligned(t, a, 3990);
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.SIZE_MISMATCH);
            assertThat(f.message()).contains("IOFreeAligned(").contains(", 3990) frees a 4000-byte allocation");
        });
        assertThat(t.kernel.ledger().liveCount(t.site("IOMallocAligned"))).isZero();
    }
}
