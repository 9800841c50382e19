package dev.kextharness.kernel.malloc;

import static dev.kextharness.kernel.TestKernel.M_LOCKF;
import static dev.kextharness.kernel.TestKernel.M_PCB;
import static dev.kextharness.kernel.TestKernel.M_RTABLE;
import static dev.kextharness.kernel.TestKernel.M_TEMP;
import static dev.kextharness.kernel.TestKernel.M_WAITOK;
import static dev.kextharness.kernel.TestKernel.p;
import static dev.kextharness.kernel.malloc.BsdMalloc.M_NOWAIT;
import static dev.kextharness.kernel.malloc.BsdMalloc.M_NULL;
import static dev.kextharness.kernel.malloc.BsdMalloc.M_ZERO;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.zalloc.Zone;
import org.junit.jupiter.api.Test;

/** Fact sheet §3: the BSD {@code _MALLOC} family as kexts see it. */
class BsdMallocTest {

    /** The byte an untouched zone element holds at {@code addr}: {@code ZP_POISON}, little-endian. */
    private static int poisonByte(long addr) {
        return (int) (SparseMemory.ZP_POISON >>> ((addr & 7) * 8)) & 0xff;
    }

    @Test
    void flagValues() {
        assertThat(M_NOWAIT).isEqualTo(0x1);
        assertThat(M_ZERO).isEqualTo(0x4);
        assertThat(M_NULL).isEqualTo(0x8);
        assertThat(BsdMalloc.M_LAST).isEqualTo(129);
    }

    @Test
    void mallocIsAKallocOfTheRequestedSizeWithNoHeader() {
        TestKernel t = TestKernel.boot();
        Zone z16 = t.zone("kalloc.16");
        long count = z16.liveCount();
        int site = t.site("_MALLOC");
        long a = t.malloc(16, M_WAITOK);
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.16"); // a header would push 16 bytes into kalloc.32
        assertThat(z16.liveCount()).isEqualTo(count + 1);
        assertThat(t.kernel.ledger().liveCount(site)).isEqualTo(1);
        assertThat(t.kernel.ledger().liveBytes(site)).isEqualTo(16);
        t.free(a);
        assertThat(z16.liveCount()).isEqualTo(count);
        assertThat(t.kernel.ledger().liveCount(site)).isZero();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void mallocOfZeroBytesReturnsNull() {
        TestKernel t = TestKernel.boot();
        assertThat(t.malloc(0, M_WAITOK)).isZero();
        assertThat(t.malloc(0, M_NOWAIT)).isZero();
        assertThat(t.kernel.ledger().totalCount(t.site("_MALLOC"))).isZero();
    }

    @Test
    void nowaitGetsNullAbove16384() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(16384, M_NOWAIT);
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.16384");
        assertThat(t.malloc(16385, M_NOWAIT)).isZero();
        assertThat(t.malloc(16385, M_NOWAIT | M_NULL)).isZero();
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        assertThat(t.kernel.panicked()).isFalse();
    }

    @Test
    void blockingMallocAboveTheWiredLimitPanics() {
        TestKernel t = TestKernel.boot();
        long size = (2L << 30) + 1;
        t.assertPanics(() -> t.malloc(size, M_WAITOK),
                "_MALLOC: kalloc returned NULL (potential leak), size 2147483649");
    }

    @Test
    void blockingMallocAboveTheWiredLimitWithMNullReturnsNull() {
        TestKernel t = TestKernel.boot();
        assertThat(t.malloc((2L << 30) + 1, M_NULL)).isZero();
        assertThat(t.malloc(3L << 30, M_NULL | M_ZERO)).isZero();
        assertThat(t.kernel.panicked()).isFalse();
    }

    @Test
    void wiredLimitFollowsRamOnBigMacs() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withPhysicalMemory(512L << 30));
        long limit = 8L << 30; // 512 GiB / 64
        long a = t.malloc(limit, M_WAITOK);
        assertThat(a).isNotZero();
        t.assertPanics(() -> t.malloc(limit + 1, M_WAITOK),
                "_MALLOC: kalloc returned NULL (potential leak), size 8589934593");
    }

    @Test
    void intMaxNowaitIsNull() {
        TestKernel t = TestKernel.boot();
        assertThat(t.malloc(Integer.MAX_VALUE, M_NOWAIT)).isZero();
    }

    @Test
    void intMaxWaitokIsATwoGiBWiredBlock() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(Integer.MAX_VALUE, M_WAITOK);
        assertThat(a).isNotZero();
        assertThat(t.kernel.kernelMap().entryAt(a).size).isEqualTo(2L << 30);
        assertThat(t.kernel.kalloc().largeTotal()).isEqualTo(2L << 30);
        assertThat(t.kernel.kalloc().largestAllocated()).isEqualTo(2L << 30);
        assertThat(t.kernel.ledger().liveBytes(t.site("_MALLOC"))).isEqualTo(Integer.MAX_VALUE);
        t.free(a);
        assertThat(t.kernel.kalloc().largeTotal()).isZero();
    }

    @Test
    void aFreshOneByteMallocReadsZcachesCanary() {
        // Catalina's kalloc.16 has a per-CPU cache: the element's first and last word hold
        // zcache_canary ^ addr, not the zone poison 10.12's kalloc.16 gave the source article (0xef).
        TestKernel t = TestKernel.boot();
        long a = t.malloc(1, M_WAITOK);
        long canary = t.kernel.zalloc().zcacheCanary() ^ a;
        assertThat(t.kernel.memory().load8(a)).isEqualTo((int) (canary & 0xff));
        assertThat(t.kernel.memory().load(a, 8)).isEqualTo(canary);
        assertThat(t.kernel.memory().load(a + 8, 8)).isEqualTo(canary);
    }

    @Test
    void mZeroZeroesExactlyTheRequestedBytes() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(20, M_ZERO);
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.32");
        for (int i = 0; i < 20; i++) {
            assertThat(t.kernel.memory().load8(a + i)).as("byte %d", i).isZero();
        }
        for (int i = 20; i < 24; i++) {
            assertThat(t.kernel.memory().load8(a + i)).as("byte %d", i).isEqualTo(poisonByte(a + i));
        }
        assertThat(t.kernel.memory().load(a + 24, 8)).isEqualTo(t.kernel.zalloc().zcacheCanary() ^ a); // zcache's
    }

    @Test
    void mZeroOnALargeBlock() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(20000, M_ZERO);
        assertThat(t.kernel.memory().load(a, 8)).isZero();
        assertThat(t.kernel.memory().load(a + 19992, 8)).isZero();
    }

    @Test
    void typeAtOrAboveMLastPanics() {
        TestKernel t = TestKernel.boot();
        t.assertPanics(() -> t.malloc(16, 129, M_WAITOK), "_malloc TYPE");
    }

    @Test
    void freeWithTypeAtOrAboveMLastPanics() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(16, M_WAITOK);
        t.assertPanics(() -> t.free(a, 129), "_free TYPE");
    }

    @Test
    void freeTypeIsCheckedBeforeTheNullCheck() {
        TestKernel t = TestKernel.boot();
        t.assertPanics(() -> t.free(0, 200), "_free TYPE");
    }

    @Test
    void freeOfNullIsANoOp() {
        TestKernel t = TestKernel.boot();
        t.free(0);
        t.free(0, 0);
        assertThat(t.kernel.panicked()).isFalse();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void kextVisibleTypesAllWork() {
        TestKernel t = TestKernel.boot();
        for (int type : new int[]{4, 5, 9, 11, 40, 80, 84, 85, 100, 128}) {
            long a = t.malloc(100, type, M_WAITOK);
            assertThat(t.zoneOf(a)).isEqualTo("kalloc.128");
            t.free(a, type);
        }
        assertThat(t.kernel.ledger().liveCount(t.site("_MALLOC"))).isZero();
    }

    @Test
    void freeOfAnOSMallocBlockIsACrossFamilyFinding() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("com.example.tag", 0);
        long a = t.osmalloc(40, tag);
        long count = t.zone("kalloc.48").liveCount();
        t.free(a);
        assertThat(t.zone("kalloc.48").liveCount()).isEqualTo(count - 1);
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.CROSS_FAMILY_FREE);
            assertThat(f.site()).isEqualTo(t.callSite(t.site("_FREE")));
            assertThat(f.address()).isEqualTo(a);
            assertThat(f.message()).isEqualTo("_FREE(" + p(a) + ") frees memory allocated by OSMalloc at "
                    + t.callSite(t.site("OSMalloc")).location() + "; free it with OSFree. Real XNU stays silent "
                    + "(both end in kfree), but the pairing is wrong and breaks on other kernels.");
        });
        // XNU does not know: the tag keeps the reference of the block.
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(2);
    }

    @Test
    void crossFamilyFreeIsSilentWithFindingsOff() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withFindings(false));
        long a = t.ioMalloc(40);
        t.free(a);
        assertThat(t.kernel.ledger().findings()).isEmpty();
        assertThat(t.kernel.ledger().liveCount(t.site("IOMalloc"))).isZero();
    }

    // _MALLOC_ZONE / _FREE_ZONE

    @Test
    void mallocZoneTypeAtOrAboveMLastPanics() {
        TestKernel t = TestKernel.boot();
        t.assertPanics(() -> t.mallocZone(256, 129, M_WAITOK), "_malloc_zone TYPE");
    }

    @Test
    void mallocZoneOfAPlainMallocTypePanics() {
        TestKernel t = TestKernel.boot();
        t.assertPanics(() -> t.mallocZone(256, M_TEMP, M_WAITOK), "_malloc_zone ZONE: type = 80");
    }

    @Test
    void mallocZoneOfMLockfPanics() {
        TestKernel t = TestKernel.boot();
        t.assertPanics(() -> t.mallocZone(256, M_LOCKF, M_WAITOK), "_malloc_zone XXX");
    }

    @Test
    void mallocZoneOfMRtableWithTheMbufSizeUsesTheMbufZone() {
        TestKernel t = TestKernel.boot();
        Zone mbuf = t.zone("mbuf");
        assertThat(mbuf.elemSize()).isEqualTo(256);
        assertThat(mbuf.allocSize()).isEqualTo(4096);
        long count = mbuf.count();
        long a = t.mallocZone(256, M_RTABLE, M_WAITOK);
        assertThat(t.zoneOf(a)).isEqualTo("mbuf");
        assertThat(mbuf.count()).isEqualTo(count + 1);
        t.freeZone(a, 256, M_RTABLE);
        assertThat(mbuf.count()).isEqualTo(count);
        assertThat(t.kernel.ledger().liveCount(t.site("_MALLOC_ZONE"))).isZero();
    }

    @Test
    void mallocZoneWithAnotherSizeIsKalloc() {
        TestKernel t = TestKernel.boot();
        long count = t.zone("mbuf").count();
        long a = t.mallocZone(200, M_RTABLE, M_WAITOK);
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.224");
        long b = t.mallocZone(300, M_PCB, M_WAITOK);
        assertThat(t.zoneOf(b)).isEqualTo("kalloc.368");
        assertThat(t.zone("mbuf").count()).isEqualTo(count);
        t.freeZone(a, 200, M_RTABLE);
        t.freeZone(b, 300, M_PCB);
        assertThat(t.kernel.ledger().liveCount(t.site("_MALLOC_ZONE"))).isZero();
    }

    @Test
    void mallocZoneNowaitAndZero() {
        TestKernel t = TestKernel.boot();
        assertThat(t.mallocZone(20000, M_RTABLE, M_NOWAIT)).isZero();
        long a = t.mallocZone(256, M_RTABLE, M_NOWAIT | M_ZERO);
        assertThat(t.kernel.memory().load(a, 8)).isZero();
        assertThat(t.kernel.memory().load(a + 248, 8)).isZero();
        long b = t.mallocZone(100, M_PCB, M_ZERO);
        assertThat(t.kernel.memory().load(b + 92, 8)).isZero();
        assertThat(t.kernel.memory().load8(b + 100)).isEqualTo(poisonByte(b + 100));
    }

    @Test
    void freeZoneTypeAtOrAboveMLastPanics() {
        TestKernel t = TestKernel.boot();
        long a = t.mallocZone(256, M_RTABLE, M_WAITOK);
        t.assertPanics(() -> t.freeZone(a, 256, 129), "FREE_SIZE");
    }

    @Test
    void freeZoneOfAPlainMallocTypePanics() {
        TestKernel t = TestKernel.boot();
        long a = t.mallocZone(256, M_RTABLE, M_WAITOK);
        t.assertPanics(() -> t.freeZone(a, 256, M_TEMP), "free_zone ZONE");
    }

    @Test
    void freeZoneOfMLockfPanics() {
        TestKernel t = TestKernel.boot();
        long a = t.mallocZone(256, M_RTABLE, M_WAITOK);
        t.assertPanics(() -> t.freeZone(a, 256, M_LOCKF), "FREE_SIZE XXX");
    }

    @Test
    void freeZoneWithAnotherSizeIsKfreeWithItsRules() {
        TestKernel t = TestKernel.boot();
        long a = t.mallocZone(256, M_RTABLE, M_WAITOK);
        // Not the mbuf size: kfree(a, 100) picks kalloc.128, which does not own the mbuf element.
        t.assertPanics(() -> t.freeZone(a, 100, M_RTABLE),
                "Element " + p(a) + " from zone mbuf caught being freed to wrong zone kalloc.128\n");
    }

    @Test
    void freeZoneDoubleFreeOfAnMbufPanics() {
        TestKernel t = TestKernel.boot();
        long a = t.mallocZone(256, M_RTABLE, M_WAITOK);
        t.freeZone(a, 256, M_RTABLE);
        t.assertPanics(() -> t.freeZone(a, 256, M_RTABLE), "zfree: double free of " + p(a) + " to zone mbuf\n");
    }

    @Test
    void osmallocPageableBlockUnderFreeIsNotManagedByKalloc() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("p", OSMallocTags.OSMT_PAGEABLE);
        long a = t.osmalloc(4096, tag);
        assertThat(t.kernel.kernelMap().entryAt(a)).isNotNull();
        assertThat(TestKernel.panicOf(() -> t.free(a)).panicString())
                .startsWith("Attempting to lookup/free an address not managed by kalloc! (map: 0xffffff801f8a2c60");
    }
}
