package dev.kextharness.kernel.zalloc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.TestKernel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Fact sheet §6.1 (zinit, growth), §6.7 (zone GC) and §6.8 (the counters zprint reads). */
class ZoneTest {

    @ParameterizedTest(name = "zinit({0}) -> elem {1}, chunk {2}")
    @CsvSource({
            "1, 16, 4096",
            "8, 16, 4096",
            "16, 16, 4096",
            "17, 24, 4096",
            "24, 24, 4096",
            "96, 96, 8192",
            "25, 32, 4096",
            "100, 104, 4096",
            "2000, 2000, 4096",
            "3000, 3000, 12288",
            "256, 256, 4096",
            "4096, 4096, 4096",
            "5000, 5000, 20480",
            "12288, 12288, 12288",
            "40960, 40960, 40960"})
    void zinitElementAndChunkSizes(long size, long elem, long chunk) {
        TestKernel t = TestKernel.boot();
        Zone zone = t.kernel.zalloc().zinit(size, 0, 4096, "test.zone");
        assertThat(zone.name()).isEqualTo("test.zone");
        assertThat(zone.elemSize()).isEqualTo(elem);
        assertThat(zone.allocSize()).isEqualTo(chunk);
        assertThat(zone.maxSize()).isEqualTo(chunk);
    }

    @Test
    void chunkSizeIsTheLeastFragmentedOf4To32KiB() {
        for (long elem = 16; elem <= 16384; elem += 8) {
            long best = 0;
            long bestWaste = Long.MAX_VALUE;
            if (elem % 4096 == 0) {
                best = elem;
            } else {
                for (long alloc = 4096; alloc <= 32768; alloc += 4096) {
                    long waste = alloc < elem ? 100 : ((alloc % elem) * 100) / alloc;
                    if (waste < bestWaste) {
                        bestWaste = waste;
                        best = alloc;
                    }
                }
            }
            assertThat(Zalloc.chunkSizeFor(elem)).as("elem %d", elem).isEqualTo(best);
        }
    }

    @Test
    void zinitDefaultsAndMaxSize() {
        TestKernel t = TestKernel.boot();
        Zone zone = t.kernel.zalloc().zinit(64, 100000, 12345, "test.zone");
        assertThat(zone.allocSize()).isEqualTo(4096); // the alloc argument is ignored
        assertThat(zone.maxSize()).isEqualTo(102400); // page-rounded
        assertThat(zone.collectable()).isTrue();
        assertThat(zone.expandable()).isTrue();
        assertThat(zone.exhaustible()).isFalse();
        assertThat(zone.caching()).isFalse();
        assertThat(zone.count()).isZero();
        assertThat(zone.curSize()).isZero();
        assertThat(zone.totalAllocations()).isZero();
        assertThat(t.kernel.zalloc().zone("test.zone")).isSameAs(zone);
        assertThat(t.kernel.zalloc().zones()).endsWith(zone);
        assertThat(Zalloc.MAX_ZONES).isEqualTo(320);
    }

    @Test
    void maxSizeIsRaisedToTheChunkSize() {
        TestKernel t = TestKernel.boot();
        Zone zone = t.kernel.zalloc().zinit(368, 4096, 4096, "test.zone");
        assertThat(zone.allocSize()).isEqualTo(32768);
        assertThat(zone.maxSize()).isEqualTo(32768);
    }

    @Test
    void expandableZonesGrowMaxSizeByHalf() {
        TestKernel t = TestKernel.boot();
        Zalloc zalloc = t.kernel.zalloc();
        Zone zone = zalloc.zinit(64, 4096, 4096, "test.zone");
        int site = t.site("kalloc");
        for (int i = 0; i < 64; i++) {
            assertThat(zalloc.zalloc(zone, site, 64, true)).isNotZero();
        }
        assertThat(zone.curSize()).isEqualTo(4096);
        assertThat(zone.maxSize()).isEqualTo(4096);
        zalloc.zalloc(zone, site, 64, true); // cur 4096 + 64 > max 4096: max += max/2
        assertThat(zone.maxSize()).isEqualTo(6144);
        assertThat(zone.curSize()).isEqualTo(8192);
        for (int i = 0; i < 63; i++) {
            zalloc.zalloc(zone, site, 64, true);
        }
        assertThat(zone.maxSize()).isEqualTo(6144);
        zalloc.zalloc(zone, site, 64, true);
        assertThat(zone.maxSize()).isEqualTo(9216);
        assertThat(zone.curSize()).isEqualTo(12288);
        zalloc.zalloc(zone, site, 64, true);
        assertThat(zone.maxSize()).isEqualTo(9216);
        assertThat(zone.count()).isEqualTo(130);
    }

    @Test
    void exhaustibleZonesReturnNullWhenFull() {
        TestKernel t = TestKernel.boot();
        Zalloc zalloc = t.kernel.zalloc();
        Zone zone = zalloc.zinit(64, 8192, 4096, "test.zone");
        zalloc.setExhaustible(zone, true);
        assertThat(zone.exhaustible()).isTrue();
        int site = t.site("kalloc");
        for (int i = 0; i < 128; i++) {
            assertThat(zalloc.zalloc(zone, site, 64, true)).as("element %d", i).isNotZero();
        }
        assertThat(zalloc.zalloc(zone, site, 64, true)).isZero();
        assertThat(zalloc.zalloc(zone, site, 64, false)).isZero();
        assertThat(zone.count()).isEqualTo(128);
        assertThat(zone.curSize()).isEqualTo(8192);
        assertThat(zone.maxSize()).isEqualTo(8192);
        assertThat(t.kernel.ledger().liveCount(site)).isEqualTo(128);
        assertThat(t.kernel.panicked()).isFalse();
    }

    @Test
    void nonExpandableZonesPanicWhenEmpty() {
        TestKernel t = TestKernel.boot();
        Zalloc zalloc = t.kernel.zalloc();
        Zone zone = zalloc.zinit(64, 4096, 4096, "test.zone");
        zalloc.setExpandable(zone, false);
        assertThat(zone.expandable()).isFalse();
        int site = t.site("kalloc");
        for (int i = 0; i < 64; i++) {
            zalloc.zalloc(zone, site, 64, true);
        }
        t.assertPanics(() -> zalloc.zalloc(zone, site, 64, true), "zalloc: zone \"test.zone\" empty.");
    }

    @Test
    void countersCountElementsChunksAndLifetimeAllocations() {
        TestKernel t = TestKernel.boot();
        // A zone without a per-CPU cache: every zalloc and zfree reaches the zone's counters.
        Zalloc zalloc = t.kernel.zalloc();
        Zone zone = zalloc.zinit(80, 1 << 20, 4096, "test.zone");
        int site = t.site("kalloc");
        long count = zone.count();
        long cur = zone.curSize();
        long total = zone.totalAllocations();
        long map = zalloc.zoneMapSize();
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 52; i++) { // 51 per chunk: two chunks
            blocks.add(zalloc.zalloc(zone, site, 80, true));
        }
        assertThat(zone.count()).isEqualTo(count + 52);
        // cur_size counts the elements carved (51 x 80 = 4080 bytes a chunk), the map whole pages.
        assertThat(zone.curSize()).isEqualTo(cur + 2 * 51 * 80);
        assertThat(zone.mappedBytes()).isEqualTo(8192);
        assertThat(zone.totalAllocations()).isEqualTo(total + 52);
        assertThat(t.kernel.zalloc().zoneMapSize()).isEqualTo(map + 8192);
        assertThat(zone.freeBytes()).isEqualTo(zone.curSize() - zone.count() * 80);
        for (long a : blocks.subList(0, 10)) {
            zalloc.zfree(zone, a, site, new Zalloc.Freed());
        }
        assertThat(zone.count()).isEqualTo(count + 42);
        assertThat(zone.curSize()).isEqualTo(cur + 2 * 51 * 80);
        assertThat(zone.totalAllocations()).isEqualTo(total + 52);
        zalloc.zalloc(zone, site, 80, true);
        assertThat(zone.totalAllocations()).isEqualTo(total + 53);
    }

    @Test
    void zoneGcReturnsCompletelyFreeChunksToTheZoneMap() {
        TestKernel t = TestKernel.boot();
        Zalloc zalloc = t.kernel.zalloc();
        Zone zone = zalloc.zinit(64, 1 << 20, 4096, "test.zone"); // no per-CPU cache holding elements
        int site = t.site("kalloc");
        zalloc.zoneGc(); // start from a collected kernel
        long cur = zone.curSize();
        long map = zalloc.zoneMapSize();
        long count = zone.count();
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 64 * 3; i++) {
            blocks.add(zalloc.zalloc(zone, site, 64, true));
        }
        assertThat(zone.curSize()).isEqualTo(cur + 3 * 4096);
        assertThat(zalloc.zoneMapSize()).isEqualTo(map + 3 * 4096);
        long kept = blocks.get(100); // keeps its chunk
        for (long a : blocks) {
            if (a != kept) {
                zalloc.zfree(zone, a, site, new Zalloc.Freed());
            }
        }
        assertThat(zone.curSize()).isEqualTo(cur + 3 * 4096); // frees keep the chunks
        assertThat(zalloc.zoneGc()).isEqualTo(2 * 4096);
        assertThat(zone.curSize()).isEqualTo(cur + 4096);
        assertThat(zone.count()).isEqualTo(count + 1);
        assertThat(zalloc.zoneMapSize()).isEqualTo(map + 4096);
        assertThat(zalloc.zoneGc()).isZero();
        zalloc.zfree(zone, kept, site, new Zalloc.Freed());
        assertThat(zalloc.zoneGc()).isEqualTo(4096);
        assertThat(zone.curSize()).isEqualTo(cur);
        assertThat(zalloc.zoneMapSize()).isEqualTo(map);
        // The zone grows again, into the space GC gave back.
        long again = zalloc.zalloc(zone, site, 64, true);
        assertThat(t.zoneOf(again)).isEqualTo("test.zone");
        assertThat(zalloc.zoneMapSize()).isEqualTo(map + 4096);
    }

    @Test
    void zoneGcLeavesNonCollectableZonesAlone() {
        TestKernel t = TestKernel.boot();
        Zalloc zalloc = t.kernel.zalloc();
        Zone zone = zalloc.zinit(64, 4096, 4096, "test.zone");
        zalloc.setCollectable(zone, false);
        int site = t.site("kalloc");
        long a = zalloc.zalloc(zone, site, 64, true);
        zalloc.checkFree(zone, a, site);
        zalloc.zfreeChecked(zone, a, site);
        zalloc.zoneGc();
        assertThat(zone.curSize()).isEqualTo(4096);
        assertThat(zone.collectable()).isFalse();
    }

    @Test
    void largestZoneIsTheOneWithTheLargestCurSize() {
        TestKernel t = TestKernel.boot();
        for (int i = 0; i < 40000; i++) {
            t.kalloc(48);
        }
        assertThat(t.kernel.zalloc().largestZone().name()).isEqualTo("kalloc.48");
        long max = t.kernel.zalloc().zones().stream().mapToLong(Zone::curSize).max().orElseThrow();
        assertThat(t.kernel.zalloc().largestZone().curSize()).isEqualTo(max);
    }

    @Test
    void elementLookupFindsTheOwningZoneAndSite() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(30);
        Zalloc.Element e = t.kernel.zalloc().element(a + 5);
        assertThat(e.zone().name()).isEqualTo("kalloc.32");
        assertThat(e.address()).isEqualTo(a);
        assertThat(e.live()).isTrue();
        assertThat(e.site()).isEqualTo(t.site("kalloc"));
        assertThat(e.requested()).isEqualTo(30);
        t.kfree(a, 30);
        assertThat(t.kernel.zalloc().element(a).live()).isFalse();
        assertThat(t.kernel.zalloc().element(0x1000)).isNull();
        assertThat(t.kernel.zalloc().inZoneMap(a)).isTrue();
    }
}
