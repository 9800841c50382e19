package dev.kextharness.kernel.zcache;

import static dev.kextharness.kernel.TestKernel.p;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.zalloc.Zone;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Catalina's per-CPU zone caches (xnu-6153 osfmk/kern/zcache.c), step by step on pinned CPUs:
 * magazines of 8, the depot of 8 magazines, the canary and its two panics, and XNU's silence
 * about double and interior-pointer frees in a cached zone when findings are off.
 */
class ZcacheTest {
    private TestKernel t;

    @AfterEach
    void unpin() {
        if (t != null) {
            try {
                t.kernel.cpus().unpin();
            } catch (IllegalStateException notPinned) {
                // the test unpinned already
            }
        }
    }

    private TestKernel bootPinned(KernelConfig config, int cpu) {
        t = TestKernel.boot(config);
        t.kernel.cpus().pin(cpu);
        return t;
    }

    @Test
    void cachedZonesAreExactlyCatalinasKzcEntriesWithCachingOn() {
        t = TestKernel.boot();
        List<String> cached = new ArrayList<>();
        for (Zone zone : t.kernel.zalloc().zones()) {
            if (zone.caching()) {
                cached.add(zone.name());
                assertThat(zone.cache()).isNotNull();
            } else {
                assertThat(zone.cache()).isNull();
            }
        }
        // kalloc.c k_zone_config: KZC_ENTRY(size, true) for these, false for .1152 .1280 .1664 .6144 .12288 .16384.
        assertThat(cached).containsExactly("kalloc.16", "kalloc.32", "kalloc.48", "kalloc.64", "kalloc.80",
                "kalloc.96", "kalloc.128", "kalloc.160", "kalloc.192", "kalloc.224", "kalloc.256", "kalloc.288",
                "kalloc.368", "kalloc.400", "kalloc.512", "kalloc.576", "kalloc.768", "kalloc.1024", "kalloc.2048",
                "kalloc.4096", "kalloc.8192");
        assertThat(ZoneCache.MAGAZINE_SIZE).isEqualTo(8);
        assertThat(ZoneCache.DEPOT_SIZE).isEqualTo(8);
    }

    @Test
    void aMagazineIsFilledEightAtATimeAndHandsOutLastFreedFirst() {
        bootPinned(KernelConfig.defaults(), 0);
        Zone zone = t.zone("kalloc.256"); // 16 elements a page: a fill gets all 8 without growing twice
        assertThat(zone.cachedElements()).as("untouched at boot").isZero();
        assertThat(zone.allocSize() / zone.elemSize()).isGreaterThanOrEqualTo(8);
        long count = zone.count();
        long total = zone.totalAllocations();

        long a = t.kalloc(256);
        // zcache_mag_fill took 8 elements from the zone (zone count and sum_count move by 8); one is out.
        assertThat(zone.count()).isEqualTo(count + 8);
        assertThat(zone.totalAllocations()).isEqualTo(total + 8);
        assertThat(zone.cache().cachedOnCpu(0)).isEqualTo(7);
        assertThat(zone.liveCount()).isEqualTo(count + 1);

        t.kfree(a, 256);
        assertThat(zone.cache().cachedOnCpu(0)).isEqualTo(8);
        assertThat(zone.count()).as("a cached element stays in use as the zone counts").isEqualTo(count + 8);
        assertThat(t.kalloc(256)).as("the magazine is a stack").isEqualTo(a);
        assertThat(zone.totalAllocations()).as("a magazine hit never reaches the zone").isEqualTo(total + 8);
    }

    @Test
    void fullMagazinesGoToTheDepotThenDrainIntoTheZoneAndZoneGcEmptiesTheDepot() {
        bootPinned(KernelConfig.defaults(), 0);
        Zone zone = t.zone("kalloc.2048");
        long count = zone.count();
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 160; i++) {
            blocks.add(t.kalloc(2048)); // fills of what the zone has (2 a page); previous is never needed
        }
        assertThat(zone.count()).isEqualTo(count + 160);
        assertThat(zone.cache().cachedOnCpu(0)).isZero();
        for (long a : blocks) {
            t.kfree(a, 2048);
        }
        // current and previous fill (16), then 8 full magazines swap into the depot (64); each of
        // the 80 frees after that finds everything full every 8th time and drains current (80 back).
        assertThat(zone.cache().fullMagazinesInDepot()).isEqualTo(ZoneCache.DEPOT_SIZE);
        assertThat(zone.cache().cachedOnCpu(0)).isEqualTo(16);
        assertThat(zone.cachedElements()).isEqualTo(80);
        assertThat(zone.count()).isEqualTo(count + 80);
        assertThat(zone.liveCount()).isEqualTo(count);

        // zone_gc drains the depot's full magazines; the CPU's own two stay.
        t.kernel.zalloc().zoneGc();
        assertThat(zone.cache().fullMagazinesInDepot()).isZero();
        assertThat(zone.cachedElements()).isEqualTo(16);
        assertThat(zone.count()).isEqualTo(count + 16);
    }

    @Test
    void anotherCpuTakesFullMagazinesFromTheDepotAndKeepsItsOwnMagazines() {
        bootPinned(KernelConfig.defaults(), 0);
        Zone zone = t.zone("kalloc.4096");
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            blocks.add(t.kalloc(4096));
        }
        for (long a : blocks) {
            t.kfree(a, 4096); // 8 in current, 8 in previous, one full magazine to the depot
        }
        assertThat(zone.cache().fullMagazinesInDepot()).isEqualTo(1);
        long total = zone.totalAllocations();
        t.kernel.cpus().unpin();
        t.kernel.cpus().pin(1);
        long b = t.kalloc(4096);
        assertThat(zone.cache().fullMagazinesInDepot()).as("CPU 1 swapped it in").isZero();
        assertThat(zone.totalAllocations()).as("no zone allocation").isEqualTo(total);
        assertThat(blocks).contains(b);
        assertThat(zone.cache().cachedOnCpu(1)).isEqualTo(7);
        assertThat(zone.cache().cachedOnCpu(0)).isEqualTo(16);
    }

    @Test
    void aFreshCachedElementCarriesTheCanaryInItsFirstAndLastWordAndPoisonBetween() {
        t = TestKernel.boot();
        long a = t.kalloc(64);
        long canary = t.kernel.zalloc().zcacheCanary() ^ a;
        SparseMemory memory = t.kernel.memory();
        assertThat(memory.load(a, 8)).isEqualTo(canary);
        assertThat(memory.load(a + 56, 8)).isEqualTo(canary);
        for (int off = 8; off < 56; off += 8) {
            assertThat(memory.load(a + off, 8)).as("offset %d", off).isEqualTo(SparseMemory.ZP_POISON);
        }
        assertThat(memory.materializedPages()).as("reading costs no page").isZero();
        // The same words once the page exists (a neighbour wrote to it).
        memory.store(a + 16, 8, 1);
        assertThat(memory.load(a, 8)).isEqualTo(canary);
        assertThat(memory.load(a + 56, 8)).isEqualTo(canary);
        assertThat(memory.load(a + 64, 8)).as("the next element's first word").isEqualTo(t.kernel.zalloc().zcacheCanary() ^ (a + 64));
        // An uncached zone still reads as poison.
        long b = t.kalloc(1152);
        assertThat(memory.load(b, 8)).isEqualTo(SparseMemory.ZP_POISON);
    }

    @Test
    void aWriteAfterFreeToTheFirstWordPanicsAtTheNextAllocationWithZcachesMessage() {
        for (boolean findings : new boolean[]{true, false}) {
            bootPinned(KernelConfig.defaults().withFindings(findings), 0);
            Zone zone = t.zone("kalloc.64");
            long a = t.kalloc(64);
            long canary = t.kernel.zalloc().zcacheCanary();
            t.kfree(a, 64);
            t.kernel.memory().store(a, 8, 0x4141414141414141L);
            KernelPanic panic = t.assertPanics(() -> t.kalloc(64), CFormat.format(
                    "Zone cache element was used after free! Element %p was corrupted at beginning; Expected %p but "
                            + "found %p; canary %p; zone %p (%s)",
                    a, canary ^ a, 0x4141414141414141L, canary, zone.address(), "kalloc.64"));
            assertThat(panic.harnessNote()).isNull();
            t.kernel.cpus().unpin();
        }
    }

    @Test
    void aWriteAfterFreeToTheLastWordPanicsAsCorruptedAtEnd() {
        bootPinned(KernelConfig.defaults(), 0);
        Zone zone = t.zone("kalloc.32");
        long a = t.kalloc(20);
        long canary = t.kernel.zalloc().zcacheCanary();
        t.kfree(a, 20);
        t.kernel.memory().store8(a + 31, 0);
        long found = t.kernel.memory().load(a + 24, 8);
        t.assertPanics(() -> t.malloc(32, TestKernel.M_WAITOK), CFormat.format(
                "Zone cache element was used after free! Element %p was corrupted at end; Expected %p but found %p; "
                        + "canary %p; zone %p (%s)", a, canary ^ a, found, canary, zone.address(), "kalloc.32"));
    }

    @Test
    void theCanaryIsAlsoCheckedWhenZoneGcDrainsTheDepot() {
        bootPinned(KernelConfig.defaults(), 0);
        List<Long> blocks = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            blocks.add(t.kalloc(512));
        }
        for (long a : blocks) {
            t.kfree(a, 512); // 1-8 fill current, which becomes previous; 9-16 the magazine that goes to the depot
        }
        long corrupted = blocks.get(8);
        t.kernel.memory().store(corrupted + 504, 8, 7);
        KernelPanic panic = TestKernel.panicOf(() -> t.kernel.zalloc().zoneGc());
        assertThat(panic.panicString()).startsWith("Zone cache element was used after free! Element " + p(corrupted)
                + " was corrupted at end;");
    }

    @Test
    void aWriteAfterFreeToAMiddleWordIsNeverSeenInXnuModeAndCaughtByTheHarnessOtherwise() {
        bootPinned(KernelConfig.defaults().withFindings(false), 0);
        long a = t.kalloc(64);
        t.kfree(a, 64);
        t.kernel.memory().store(a + 24, 8, 42);
        assertThat(t.kalloc(64)).isEqualTo(a);
        assertThat(t.kernel.memory().load(a + 24, 8)).as("the stale write is still there").isEqualTo(42);
        assertThat(t.kernel.panicked()).isFalse();
        t.kernel.cpus().unpin();

        bootPinned(KernelConfig.defaults(), 0);
        long b = t.kalloc(64);
        t.kfree(b, 64);
        t.kernel.memory().store(b + 24, 8, 42);
        KernelPanic panic = TestKernel.panicOf(() -> t.kalloc(64));
        assertThat(panic.panicString()).startsWith("a freed zone element has been modified in zone kalloc.64: expected "
                + p(SparseMemory.ZP_POISON) + " but found 0x2a,");
        assertThat(panic.harnessNote()).contains("per-CPU cache (zcache)", "XNU would hand this element out");
    }

    @Test
    void aDoubleFreeIsSilentInXnuModeAndTheNextTwoAllocationsReturnTheSamePointer() {
        bootPinned(KernelConfig.defaults().withFindings(false), 0);
        int site = t.site("kalloc");
        long a = t.kalloc(16);
        t.kfree(a, 16);
        t.kfree(a, 16);
        assertThat(t.kernel.panicked()).isFalse();
        assertThat(t.kernel.ledger().liveCount(site)).isZero();
        assertThat(t.kalloc(16)).isEqualTo(a);
        assertThat(t.kalloc(16)).isEqualTo(a);
        // One element, two owners: the ledger keeps the element's latest record, never a negative count.
        assertThat(t.kernel.ledger().liveCount(site)).isEqualTo(1);
        t.kfree(a, 16);
        t.kfree(a, 16);
        assertThat(t.kernel.ledger().liveCount(site)).isZero();
        assertThat(t.kernel.ledger().liveBytes(site)).isZero();
    }

    @Test
    void aDoubleFreeInACachedZonePanicsWithANoteWhenFindingsAreOn() {
        t = TestKernel.boot();
        long a = t.kalloc(16);
        t.kfree(a, 16);
        KernelPanic panic = t.assertPanics(() -> t.kfree(a, 16),
                "zfree: double free of " + p(a) + " to zone kalloc.16\n");
        assertThat(panic.harnessNote()).contains("per-CPU cache (zcache)", "--no-findings gives XNU's silence");
    }

    @Test
    void anInteriorPointerFreeIsSilentInXnuModeAndIsHandedOutNext() {
        bootPinned(KernelConfig.defaults().withFindings(false), 0);
        long a = t.malloc(64, TestKernel.M_WAITOK);
        long interior = a + 16;
        t.free(interior); // _FREE(p + 16): kfree_addr finds kalloc.64, zcache takes the pointer
        assertThat(t.kernel.panicked()).isFalse();
        long canary = t.kernel.zalloc().zcacheCanary() ^ interior;
        assertThat(t.kernel.memory().load(interior, 8)).isEqualTo(canary);
        assertThat(t.kernel.memory().load(interior + 56, 8)).as("written into the next element").isEqualTo(canary);
        assertThat(t.malloc(64, TestKernel.M_WAITOK)).isEqualTo(interior);
    }

    @Test
    void anInteriorPointerFreeInACachedZonePanicsWithANoteWhenFindingsAreOn() {
        t = TestKernel.boot();
        long a = t.kalloc(64);
        KernelPanic panic = t.assertPanics(() -> t.kfree(a + 16, 64),
                "zfree: freeing invalid pointer " + p(a + 16) + " to zone kalloc.64\n");
        assertThat(panic.harnessNote()).contains("per-CPU cache (zcache)", "hand it out at a later allocation");
    }

    @Test
    void aWrongZoneFreeStillPanicsInXnuMode() {
        t = TestKernel.boot(KernelConfig.defaults().withFindings(false));
        long a = t.kalloc(64);
        t.assertPanics(() -> t.kfree(a, 32), "Element " + p(a) + " from zone kalloc.64 caught being freed to wrong zone "
                + "kalloc.32\n");
    }

    @Test
    void theCpuCountIsConfigurableAndChecked() {
        assertThat(TestKernel.boot(KernelConfig.defaults().withCpus(2)).kernel.cpus().count()).isEqualTo(2);
        assertThat(KernelConfig.defaults().cpus()).isEqualTo(8);
        assertThatThrownBy(() -> KernelConfig.defaults().withCpus(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("cpus must be 1..64 (MAX_CPUS on x86_64), not 0");
        t = TestKernel.boot(KernelConfig.defaults().withCpus(2));
        assertThatThrownBy(() -> t.kernel.cpus().pin(2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("CPU 2 does not exist: this kernel has CPUs 0..1");
    }

    @Test
    void aSnapshotSkipsChunksWhoseElementsAreAllInMagazines() {
        bootPinned(KernelConfig.defaults(), 0);
        long a = t.kalloc(256);
        t.kfree(a, 256); // kalloc.256's chunk now holds only cached elements
        assertThat(t.zone("kalloc.256").cachedElements()).isEqualTo(8);
        assertThat(t.kernel.snapshot().groups()).noneMatch(g -> g.zone().equals("kalloc.256"));
    }
}
