package dev.kextharness.kernel.ledger;

import static dev.kextharness.kernel.TestKernel.M_TEMP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.TestKernel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code kernel.snapshot()}: what is live, grouped by site, zone and tag, filtered and diffed. */
class LedgerSnapshotTest {

    @Test
    void aFreshKernelHoldsOnlyKernelMemory() {
        TestKernel t = TestKernel.boot();
        LedgerSnapshot s = t.kernel.snapshot();
        assertThat(s.kext(TestKernel.BUNDLE_ID).isEmpty()).isTrue();
        assertThat(s.kext(TestKernel.LOAD_TAG).count()).isZero();
        assertThat(s.countByKext()).containsKey(Kernel.KERNEL_BUNDLE_ID).doesNotContainKey(TestKernel.BUNDLE_ID);
        assertThat(s.kext(Kernel.KERNEL_BUNDLE_ID).count()).isEqualTo(s.kext(0).count()).isPositive();
        assertThat(LedgerSnapshot.empty().isEmpty()).isTrue();
        assertThat(LedgerSnapshot.empty().count()).isZero();
    }

    @Test
    void groupsBySiteZoneAndTag() {
        TestKernel t = TestKernel.boot();
        int mallocA = t.newSite("_MALLOC");
        int mallocB = t.newSite("_MALLOC");
        List<Long> a = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            a.add(t.kernel.malloc().malloc(10, M_TEMP, 0, mallocA));
        }
        t.kernel.malloc().malloc(100, M_TEMP, 0, mallocB);
        long big = t.kernel.malloc().malloc(20000, M_TEMP, 0, mallocB);
        long tag = t.tagalloc("my.tag", 0);
        t.osmalloc(30, tag);

        LedgerSnapshot s = t.kernel.snapshot().kext(TestKernel.BUNDLE_ID);
        assertThat(s.count()).isEqualTo(10);
        assertThat(s.requestedBytes()).isEqualTo(60 + 100 + 20000 + 92 + 30);
        assertThat(s.wiredBytes()).isEqualTo(96 + 128 + 20480 + 96 + 32);

        LedgerSnapshot.Group groupA = s.filter(g -> g.site().id() == mallocA).groups().get(0);
        assertThat(groupA.zone()).isEqualTo("kalloc.16");
        assertThat(groupA.tag()).isNull();
        assertThat(groupA.count()).isEqualTo(6);
        assertThat(groupA.requestedBytes()).isEqualTo(60);
        assertThat(groupA.wiredBytes()).isEqualTo(96);
        List<Long> lowest = new ArrayList<>(a);
        lowest.sort(Long::compareUnsigned);
        assertThat(groupA.addresses()).isEqualTo(lowest.subList(0, LedgerSnapshot.SAMPLE_ADDRESSES));

        assertThat(s.filter(g -> g.site().id() == mallocB).groups()).extracting(LedgerSnapshot.Group::zone)
                .containsExactly("kalloc_map", "kalloc.128"); // largest wired first
        assertThat(s.groups().get(0).addresses()).containsExactly(big);
        assertThat(s.zone("kalloc.16").count()).isEqualTo(6);
        assertThat(s.zone("kalloc_map").wiredBytes()).isEqualTo(20480);
        assertThat(s.tag("my.tag").count()).isEqualTo(1);
        assertThat(s.tag("my.tag").groups().get(0).zone()).isEqualTo("kalloc.32");
        assertThat(s.family(Family.MALLOC).count()).isEqualTo(8);
        assertThat(s.family(Family.OSMALLOC).count()).isEqualTo(1);
        assertThat(s.family(Family.OSMALLOC_TAG).count()).isEqualTo(1);
        assertThat(s.family(Family.OSMALLOC_TAG).groups().get(0).zone()).isEqualTo("kalloc.96");
        assertThat(s.countByZone()).containsEntry("kalloc.16", 6L).containsEntry("kalloc.96", 1L)
                .containsEntry("kalloc_map", 1L);
        assertThat(s.countByFamily()).containsEntry(Family.MALLOC, 8L).containsEntry(Family.OSMALLOC, 1L);
        assertThat(s.countByKext()).containsExactly(java.util.Map.entry(TestKernel.BUNDLE_ID, 10L));
    }

    @Test
    void diffShowsWhatChangedBetweenTwoSnapshots() {
        TestKernel t = TestKernel.boot();
        int site = t.site("kalloc");
        long keep = t.kalloc(100);
        long gone = t.kalloc(2000);
        LedgerSnapshot before = t.kernel.snapshot();
        long x = t.kalloc(100);
        t.kalloc(100);
        t.kfree(gone, 2000);
        LedgerSnapshot after = t.kernel.snapshot();

        LedgerSnapshot diff = after.diff(before);
        assertThat(diff.groups()).hasSize(2);
        LedgerSnapshot.Group grew = diff.zone("kalloc.128").groups().get(0);
        assertThat(grew.site().id()).isEqualTo(site);
        assertThat(grew.count()).isEqualTo(2);
        assertThat(grew.requestedBytes()).isEqualTo(200);
        assertThat(grew.wiredBytes()).isEqualTo(256);
        assertThat(grew.addresses()).contains(keep, x);
        LedgerSnapshot.Group shrank = diff.zone("kalloc.2048").groups().get(0);
        assertThat(shrank.count()).isEqualTo(-1);
        assertThat(shrank.requestedBytes()).isEqualTo(-2000);
        assertThat(shrank.wiredBytes()).isEqualTo(-2048);
        assertThat(shrank.addresses()).isEmpty();
        assertThat(diff.count()).isEqualTo(1);

        assertThat(after.diff(after).isEmpty()).isTrue();
        assertThat(before.diff(LedgerSnapshot.empty()).count()).isEqualTo(before.count());
        assertThat(diff.toString()).contains("+2 x kalloc at ").contains("-1 x kalloc at ");
    }

    @Test
    void snapshotAfterFreeingEverythingIsBackToTheStart() {
        TestKernel t = TestKernel.boot();
        LedgerSnapshot start = t.kernel.snapshot();
        long a = t.malloc(50, 0);
        long b = t.ioMalloc(5000);
        long c = t.kalloc(100000);
        t.free(a);
        t.ioFree(b, 5000);
        t.kfree(c, 100000);
        assertThat(t.kernel.snapshot().diff(start).isEmpty()).isTrue();
    }
}
