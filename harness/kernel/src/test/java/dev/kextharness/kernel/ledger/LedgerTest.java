package dev.kextharness.kernel.ledger;

import dev.kextharness.kernel.kext.KpiContract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LedgerTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "_MALLOC, MALLOC", "_FREE, MALLOC",
            "_MALLOC_ZONE, MALLOC_ZONE", "_FREE_ZONE, MALLOC_ZONE",
            "kalloc, KALLOC", "kalloc_noblock, KALLOC", "kfree, KALLOC",
            "OSMalloc, OSMALLOC", "OSMalloc_nowait, OSMALLOC", "OSMalloc_noblock, OSMALLOC", "OSFree, OSMALLOC",
            "OSMalloc_Tagalloc, OSMALLOC_TAG", "OSMalloc_Tagfree, OSMALLOC_TAG",
            "IOMalloc, IOMALLOC", "IOMallocZero, IOMALLOC", "IOFree, IOMALLOC",
            "IOMallocAligned, IOMALLOC_ALIGNED", "IOFreeAligned, IOMALLOC_ALIGNED",
            "IOMallocContiguous, IOMALLOC_CONTIGUOUS", "IOFreeContiguous, IOMALLOC_CONTIGUOUS",
            "IOMallocPageable, IOMALLOC_PAGEABLE", "IOFreePageable, IOMALLOC_PAGEABLE",
            "printf, NONE", "IOLog, NONE"})
    void theFunctionsDeclarationDecidesTheFamily(String function, Family family) {
        KpiContract.Function declared = KpiContract.catalina().functions().stream()
                .filter(f -> f.name().equals(function)).findFirst().orElseThrow();
        assertThat(Family.of(declared.family())).isEqualTo(family);
        Ledger ledger = new Ledger(true);
        int id = ledger.register(1, "com.example.test", function, family, "com.example.Test", "m", "Test.java", 1);
        assertThat(ledger.family(id)).isEqualTo(family);
        assertThat(ledger.site(id).family()).isEqualTo(family);
    }

    @Test
    void stopCountingFreezesTheCountersAndTurnsFindingsOff() {
        Ledger ledger = new Ledger(true);
        int site = ledger.register(1, "com.example.test", "kalloc", Family.KALLOC, "com.example.Test", "m", "Test.java", 1);
        ledger.allocated(site, 40);
        ledger.stopCounting();
        ledger.allocated(site, 8);
        ledger.freed(site, 40);
        ledger.report(new Finding(Finding.Kind.SIZE_MISMATCH, ledger.site(site), 0, "ignored"));

        assertThat(ledger.counting()).isFalse();
        assertThat(ledger.liveCount(site)).isEqualTo(1);
        assertThat(ledger.liveBytes(site)).isEqualTo(40);
        assertThat(ledger.totalCount(site)).isEqualTo(1);
        assertThat(ledger.findingsEnabled()).isFalse();
        assertThat(ledger.findings()).isEmpty();
    }

    @Test
    void deallocatorNames() {
        assertThat(Family.MALLOC.deallocator()).isEqualTo("_FREE");
        assertThat(Family.KALLOC.deallocator()).isEqualTo("kfree");
        assertThat(Family.OSMALLOC.deallocator()).isEqualTo("OSFree");
        assertThat(Family.IOMALLOC.deallocator()).isEqualTo("IOFree");
        assertThat(Family.IOMALLOC_PAGEABLE.allocator()).isEqualTo("IOMallocPageable");
    }

    @Test
    void sitesAreNumberedInOrderAndCountLiveAndLifetimeAllocations() {
        Ledger ledger = new Ledger(true);
        int a = ledger.register(3, "com.example.a", "_MALLOC", Family.MALLOC, "com.example.A", "start", "A.java", 10);
        int b = ledger.register(4, "com.example.b", "kalloc", Family.KALLOC, "com.example.B", "run", null, -1);
        assertThat(a).isZero();
        assertThat(b).isEqualTo(1);
        assertThat(ledger.siteCount()).isEqualTo(2);
        assertThat(ledger.loadTag(b)).isEqualTo(4);
        ledger.allocated(a, 10);
        ledger.allocated(a, 20);
        ledger.allocated(b, 5);
        ledger.freed(a, 10);
        assertThat(ledger.liveCount(a)).isEqualTo(1);
        assertThat(ledger.liveBytes(a)).isEqualTo(20);
        assertThat(ledger.totalCount(a)).isEqualTo(2);
        assertThat(ledger.liveCountOfKext(3)).isEqualTo(1);
        assertThat(ledger.liveCountOfKext(4)).isEqualTo(1);
        assertThat(ledger.liveCountOfKext(5)).isZero();
        assertThat(ledger.sameFamily(a, b)).isFalse();
    }

    @Test
    void theSiteTableGrows() {
        Ledger ledger = new Ledger(true);
        for (int i = 0; i < 1000; i++) {
            int id = ledger.register(1, "k", i % 2 == 0 ? "kalloc" : "kfree", Family.KALLOC, "C", "m", "C.java", i);
            ledger.allocated(id, i);
        }
        assertThat(ledger.siteCount()).isEqualTo(1000);
        assertThat(ledger.liveBytes(999)).isEqualTo(999);
        assertThat(ledger.site(998).line()).isEqualTo(998);
        assertThat(ledger.sameFamily(0, 1)).isTrue();
    }

    @Test
    void callSiteNamesItsPlaceLikeAJavaStackFrame() {
        CallSite site = new CallSite(0, 1, "com.example.test", "_MALLOC", Family.MALLOC, "com.example.pkg.Driver",
                "start", "Driver.java", 23);
        assertThat(site.location()).isEqualTo("Driver.start(Driver.java:23)");
        assertThat(site.signature()).isEqualTo("com.example.test|_MALLOC|com.example.pkg.Driver.start");
        assertThat(site).hasToString("_MALLOC at Driver.start(Driver.java:23)");
        assertThat(new CallSite(0, 1, "b", "f", Family.NONE, "Top", "m", null, -1).location())
                .isEqualTo("Top.m(Unknown Source)");
        assertThat(new CallSite(0, 1, "b", "f", Family.NONE, "a.Top", "m", "Top.java", -1).location())
                .isEqualTo("Top.m(Top.java)");
    }

    @Test
    void findingsAreKeptOnlyWhenEnabled() {
        Ledger ledger = new Ledger(false);
        int id = ledger.register(2, "k", "kfree", Family.KALLOC, "C", "m", "C.java", 1);
        Finding f = new Finding(Finding.Kind.SIZE_MISMATCH, ledger.site(id), 0x10, "msg");
        ledger.report(f);
        assertThat(ledger.findings()).isEmpty();
        ledger.setFindingsEnabled(true);
        assertThat(ledger.findingsEnabled()).isTrue();
        ledger.report(f);
        assertThat(ledger.findings()).containsExactly(f);
        assertThat(ledger.findingsOfKext(2)).containsExactly(f);
        assertThat(ledger.findingsOfKext(3)).isEmpty();
        assertThat(f).hasToString("msg");
    }
}
