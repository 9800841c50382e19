package dev.kextharness.kernel.kalloc;

import static dev.kextharness.kernel.TestKernel.p;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.zalloc.Zone;
import org.junit.jupiter.api.Test;

/** Fact sheet §2: kfree takes the size, and the size, not the address, picks the zone. */
class KfreeTest {

    @Test
    void kfreeWithTheAllocatedSizeReturnsTheElement() {
        TestKernel t = TestKernel.boot();
        Zone zone = t.zone("kalloc.64");
        long count = zone.liveCount();
        long total = zone.totalAllocations();
        int kallocSite = t.site("kalloc");
        long a = t.kalloc(50);
        assertThat(zone.liveCount()).isEqualTo(count + 1);
        assertThat(t.kernel.ledger().liveCount(kallocSite)).isEqualTo(1);
        assertThat(t.kernel.ledger().liveBytes(kallocSite)).isEqualTo(50);
        t.kfree(a, 50);
        assertThat(zone.liveCount()).isEqualTo(count);
        // kalloc.64 is cached: the zone's lifetime count moves by a magazine fill (8), or not at all.
        assertThat(zone.totalAllocations()).isIn(total, total + dev.kextharness.kernel.zcache.ZoneCache.MAGAZINE_SIZE);
        assertThat(t.kernel.ledger().liveCount(kallocSite)).isZero();
        assertThat(t.kernel.ledger().liveBytes(kallocSite)).isZero();
        assertThat(t.kernel.ledger().totalCount(kallocSite)).isEqualTo(1);
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void sameBucketOtherSizeIsAcceptedAndReportedAsAFinding() {
        TestKernel t = TestKernel.boot();
        long count = t.zone("kalloc.64").liveCount();
        long a = t.kalloc(50);
        t.kfree(a, 60);
        assertThat(t.zone("kalloc.64").liveCount()).isEqualTo(count);
        assertThat(t.kernel.panicked()).isFalse();
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.SIZE_MISMATCH);
            assertThat(f.site()).isEqualTo(t.callSite(t.site("kfree")));
            assertThat(f.address()).isEqualTo(a);
            assertThat(f.message()).isEqualTo("kfree(" + p(a) + ", 60) frees a 50-byte allocation made by kalloc at "
                    + t.callSite(t.site("kalloc")).location() + ". Real XNU accepts it silently (both sizes fall in "
                    + "kalloc.64), but the size must be the one allocated.");
        });
    }

    @Test
    void sameBucketOtherSizeIsSilentWithFindingsOff() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withFindings(false));
        long count = t.zone("kalloc.64").liveCount();
        long a = t.kalloc(50);
        t.kfree(a, 64);
        long b = t.ioMalloc(20);
        t.kfree(b, 20);
        assertThat(t.zone("kalloc.64").liveCount()).isEqualTo(count);
        assertThat(t.kernel.ledger().findings()).isEmpty();
        assertThat(t.kernel.ledger().findingsEnabled()).isFalse();
    }

    @Test
    void kfreeOfAnIOMallocBlockIsACrossFamilyFinding() {
        TestKernel t = TestKernel.boot();
        long count = t.zone("kalloc.32").liveCount();
        long a = t.ioMalloc(20);
        t.kfree(a, 20);
        assertThat(t.zone("kalloc.32").liveCount()).isEqualTo(count);
        assertThat(t.kernel.ledger().liveCount(t.site("IOMalloc"))).isZero();
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.CROSS_FAMILY_FREE);
            assertThat(f.site()).isEqualTo(t.callSite(t.site("kfree")));
            assertThat(f.address()).isEqualTo(a);
            assertThat(f.message()).isEqualTo("kfree(" + p(a) + ") frees memory allocated by IOMalloc at "
                    + t.callSite(t.site("IOMalloc")).location() + "; free it with IOFree. Real XNU stays silent "
                    + "(both end in kfree), but the pairing is wrong and breaks on other kernels.");
        });
    }

    @Test
    void sizeInAnotherBucketPanicsWithWrongZone() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(64);
        t.assertPanics(() -> t.kfree(a, 16),
                "Element " + p(a) + " from zone kalloc.64 caught being freed to wrong zone kalloc.16\n");
    }

    @Test
    void largerSizeInAnotherBucketPanicsWithWrongZone() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(100);
        t.assertPanics(() -> t.kfree(a, 4000),
                "Element " + p(a) + " from zone kalloc.128 caught being freed to wrong zone kalloc.4096\n");
    }

    @Test
    void doubleFreePanics() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(64);
        t.kfree(a, 64);
        t.assertPanics(() -> t.kfree(a, 64), "zfree: double free of " + p(a) + " to zone kalloc.64\n");
    }

    @Test
    void doubleFreeInAZoneWithoutZcachePanicsTheSameWay() {
        TestKernel t = TestKernel.boot();
        assertThat(t.zone("kalloc.1152").caching()).isFalse();
        long a = t.kalloc(1100);
        t.kfree(a, 1100);
        t.assertPanics(() -> t.kfree(a, 1100), "zfree: double free of " + p(a) + " to zone kalloc.1152\n");
    }

    @Test
    void kfreeOfNullIsAKernelPageFault() {
        TestKernel t = TestKernel.boot();
        t.assertPanics(() -> t.kfree(0, 16),
                "Kernel trap at 0xffffff8000a1b2c3, type 14=page fault, registers:\n"
                        + "CR0: 0x0000000080010033, CR2: 0x0000000000000000, CR3: 0x000000001c1a9000, "
                        + "CR4: 0x00000000003626e0\n"
                        + "RAX: 0x0000000000000000, RBX: 0x0000000000000000, RCX: 0x0000000000000000, "
                        + "RDX: 0x0000000000000000\n"
                        + "RSP: 0xffffff90b627b6a0, RBP: 0xffffff90b627b6c0, RSI: 0x0000000000000000, "
                        + "RDI: 0x0000000000000000\n"
                        + "R8:  0x0000000000000000, R9:  0x0000000000000000, R10: 0x0000000000000000, "
                        + "R11: 0x0000000000000000\n"
                        + "R12: 0x0000000000000000, R13: 0x0000000000000000, R14: 0x0000000000000000, "
                        + "R15: 0x0000000000000000\n"
                        + "RFL: 0x0000000000010246, RIP: 0xffffff8000a1b2c3, CS:  0x0000000000000008, "
                        + "SS:  0x0000000000000010\n"
                        + "Fault CR2: 0x0000000000000000, Error code: 0x0000000000000000, Fault CPU: 0x0, PL: 0, VF: 0\n");
    }

    @Test
    void kfreeOfAnInteriorPointerPanicsAsAnInvalidPointer() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(64);
        KernelPanic panic = t.assertPanics(() -> t.kfree(a + 8, 64),
                "zfree: freeing invalid pointer " + p(a + 8) + " to zone kalloc.64\n");
        assertThat(panic.harnessNote()).isNotNull();
    }

    @Test
    void kfreeOfAMisalignedPointerPanicsAsAnInvalidPointerWithoutANote() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(1152); // a zone without a per-CPU cache: XNU's free_to_zone panics alike
        KernelPanic panic = t.assertPanics(() -> t.kfree(a + 3, 1152),
                "zfree: freeing invalid pointer " + p(a + 3) + " to zone kalloc.1152\n");
        assertThat(panic.harnessNote()).isNull();
    }

    @Test
    void kfreeOfTheTailOfAChunkThatNoElementCoversPanics() {
        TestKernel t = TestKernel.boot();
        Zone zone = t.zone("kalloc.48");
        long before = zone.curSize();
        long a;
        do {
            a = t.kalloc(48);
        } while (zone.curSize() == before); // the first element of a new chunk: its base
        long tail = (a & ~4095L) + 85 * 48; // a magazine's element of a one-page chunk; 4080: 16 bytes no element covers
        t.assertPanics(() -> t.kfree(tail, 48), "zfree: freeing invalid pointer " + p(tail) + " to zone kalloc.48\n");
    }

    @Test
    void kfreeWithAZoneSizeOfALargeBlockPanicsAsNonZoneMemory() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(20000);
        t.assertPanics(() -> t.kfree(a, 64), "zfree: non-allocated memory in collectable zone!");
    }

    @Test
    void largeKfreeAboveKallocLargestAllocatedPanics() {
        TestKernel t = TestKernel.boot();
        assertThat(t.kernel.kalloc().largestAllocated()).isEqualTo(524289);
        long a = t.kalloc(20000);
        t.assertPanics(() -> t.kfree(a, 1L << 20), "kfree: size 1048576 > kalloc_largest_allocated 524289");
    }

    @Test
    void largeKfreeSizeIsPageRoundedBeforeTheComparison() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(600000); // 602112 bytes in kernel_map
        assertThat(t.kernel.kalloc().largestAllocated()).isEqualTo(602112);
        t.kfree(a, 600001); // rounds to 602112: fine
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        t.assertPanics(() -> t.kfree(a, 602113), "kfree: size 606208 > kalloc_largest_allocated 602112");
    }

    @Test
    void largeKfreeWithAnotherPageCountIsAFinding() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(20000);
        t.kfree(a, 40000);
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        assertThat(t.kernel.kalloc().largeTotal()).isZero();
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.LARGE_FREE_MISMATCH);
            assertThat(f.message()).isEqualTo("kfree(" + p(a) + ", 40000) of a 20000-byte kalloc block allocated by kalloc at "
                    + t.callSite(t.site("kalloc")).location() + ": real XNU's kmem_free would unmap 40960 bytes "
                    + "instead of 20480, silently. Pass the size you allocated.");
        });
    }

    @Test
    void largeKfreeWithAnotherSizeOfTheSamePageCountIsAFinding() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(20000);
        t.kfree(a, 20400);
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.SIZE_MISMATCH);
            assertThat(f.message()).isEqualTo("kfree(" + p(a) + ", 20400) of a 20000-byte kalloc block allocated by "
                    + "kalloc at " + t.callSite(t.site("kalloc")).location() + ": real XNU accepts it silently (both "
                    + "sizes round to the same 5 pages), but the size must be the one allocated.");
        });
    }

    @Test
    void largeDoubleKfreeIsAFindingNotACrash() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(20000);
        t.kfree(a, 20000);
        t.kfree(a, 20000);
        assertThat(t.kernel.panicked()).isFalse();
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.LARGE_FREE_MISMATCH);
            assertThat(f.message()).isEqualTo("kfree(" + p(a) + ", 20000) frees no kalloc block: nothing large was "
                    + "allocated at that address (a double kfree or a wrong pointer). Real XNU's kmem_free unmaps the "
                    + "range silently and corrupts the kalloc_large counters.");
        });
    }

    @Test
    void noblockGetsNullForEveryLargeRequest() {
        TestKernel t = TestKernel.boot();
        int site = t.site("kalloc_noblock");
        long small = t.kallocNoblock(16384);
        assertThat(small).isNotZero();
        assertThat(t.zoneOf(small)).isEqualTo("kalloc.16384");
        assertThat(t.kallocNoblock(16385)).isZero();
        assertThat(t.kallocNoblock(1L << 20)).isZero();
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        assertThat(t.kernel.kalloc().largeSum()).isZero();
        assertThat(t.kernel.ledger().liveCount(site)).isEqualTo(1);
        assertThat(t.kernel.ledger().totalCount(site)).isEqualTo(1);
    }

    @Test
    void largeCountersFollowEveryLargeAllocationAndFree() {
        TestKernel t = TestKernel.boot();
        Kalloc k = t.kernel.kalloc();
        assertThat(new long[]{k.largeInuse(), k.largeTotal(), k.largeMax(), k.largeSum()}).containsOnly(0);

        long a = t.kalloc(20000);  // 20480, kalloc_map
        long b = t.kalloc(600000); // 602112, kernel_map
        assertThat(t.kernel.kallocMap().entryAt(a)).isNotNull();
        assertThat(t.kernel.kernelMap().entryAt(b)).isNotNull();
        assertThat(k.largeInuse()).isEqualTo(2);
        assertThat(k.largeTotal()).isEqualTo(622592);
        assertThat(k.largeMax()).isEqualTo(622592);
        assertThat(k.largeSum()).isEqualTo(622592);
        assertThat(k.largestAllocated()).isEqualTo(602112);

        t.kfree(a, 20000);
        assertThat(k.largeInuse()).isEqualTo(1);
        assertThat(k.largeTotal()).isEqualTo(602112);
        assertThat(k.largeMax()).isEqualTo(622592);
        assertThat(k.largeSum()).isEqualTo(622592);
        assertThat(t.kernel.kallocMap().entryAt(a)).isNull();

        long c = t.kalloc(16385); // 20480
        assertThat(k.largeInuse()).isEqualTo(2);
        assertThat(k.largeTotal()).isEqualTo(622592);
        assertThat(k.largeMax()).isEqualTo(622592);
        assertThat(k.largeSum()).isEqualTo(643072);

        long d = t.kalloc(4096 * 3); // a zone element: not counted
        assertThat(k.largeInuse()).isEqualTo(2);

        t.kfree(b, 600000);
        t.kfree(c, 16385);
        t.kfree(d, 4096 * 3);
        assertThat(k.largeInuse()).isZero();
        assertThat(k.largeTotal()).isZero();
        assertThat(k.largeMax()).isEqualTo(622592);
        assertThat(k.largeSum()).isEqualTo(643072);
        assertThat(k.largestAllocated()).isEqualTo(602112);
        assertThat(t.kernel.ledger().liveCount(t.site("kalloc"))).isZero();
        assertThat(t.kernel.ledger().totalCount(t.site("kalloc"))).isEqualTo(4);
    }

    @Test
    void wiredExtentLimitIsTwoGiBOnA32GiBMac() {
        TestKernel t = TestKernel.boot();
        long twoGiB = 2L << 30;
        assertThat(t.kalloc(twoGiB + 1)).isZero();
        assertThat(t.kalloc(twoGiB + 4096)).isZero();
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        long a = t.kalloc(twoGiB); // exactly the limit: not above it
        assertThat(a).isNotZero();
        assertThat(t.kernel.kernelMap().entryAt(a).size).isEqualTo(twoGiB);
        assertThat(t.kernel.kalloc().largeTotal()).isEqualTo(twoGiB);
        t.kfree(a, twoGiB);
        assertThat(t.kernel.kalloc().largeTotal()).isZero();
    }

    @Test
    void wiredExtentLimitIsRamOver64OnBigMacs() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withPhysicalMemory(256L << 30));
        long limit = 4L << 30; // 256 GiB / 64
        long a = t.kalloc(limit);
        assertThat(a).isNotZero();
        assertThat(t.kalloc(limit + 1)).isZero();
        t.kfree(a, limit);
    }

    @Test
    void sizesThatOverflowWhenRoundedFail() {
        TestKernel t = TestKernel.boot();
        assertThat(t.kalloc(-1L)).isZero();
        assertThat(t.kalloc(Long.MAX_VALUE)).isZero();
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
    }

    @Test
    void fullKallocMapFallsBackToKernelMapAndSaysSoOnce() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withPhysicalMemory(256L << 20));
        assertThat(t.kernel.kallocMap().capacity()).isEqualTo(16L << 20); // KALLOC_MAP_SIZE_MIN
        long block = 503808; // 123 pages
        int inKallocMap = (int) ((16L << 20) / block);
        for (int i = 0; i < inKallocMap; i++) {
            long a = t.kalloc(500000);
            assertThat(t.kernel.kallocMap().entryAt(a)).as("block %d", i).isNotNull();
        }
        assertThat(t.kernel.log().text()).doesNotContain("falling back");
        long spill1 = t.kalloc(500000);
        long spill2 = t.kalloc(500000);
        assertThat(t.kernel.kernelMap().entryAt(spill1)).isNotNull();
        assertThat(t.kernel.kernelMap().entryAt(spill2)).isNotNull();
        assertThat(t.kernel.log().lines()).filteredOn(l -> l.text().contains("falling back"))
                .singleElement().satisfies(l -> assertThat(l.text())
                        .isEqualTo("kalloc_canblock: falling back to kernel_map"));
        assertThat(t.kernel.kalloc().largeInuse()).isEqualTo(inKallocMap + 2);
        t.kfree(spill1, 500000);
        assertThat(t.kernel.kernelMap().entryAt(spill1)).isNull();
    }

    @Test
    void kallocZeroIsASixteenByteElement() {
        TestKernel t = TestKernel.boot();
        long count = t.zone("kalloc.16").liveCount();
        long a = t.kalloc(0);
        assertThat(a).isNotZero();
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.16");
        assertThat(t.zone("kalloc.16").liveCount()).isEqualTo(count + 1);
        t.kfree(a, 0);
        assertThat(t.zone("kalloc.16").liveCount()).isEqualTo(count);
    }
}
