package dev.kextharness.kernel.kalloc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Zone;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Fact sheet §1.1 (the 27 Catalina x86_64 kalloc zones) and §1.2 (size to bucket). */
class KallocBucketTest {

    /** idx, zone name, elem size, zcache, alloc size, elems per chunk: the §1.1 table verbatim. */
    static List<Object[]> table() {
        return List.of(
                new Object[]{0, "kalloc.16", 16, true, 4096, 256},
                new Object[]{1, "kalloc.32", 32, true, 4096, 128},
                new Object[]{2, "kalloc.48", 48, true, 4096, 85},
                new Object[]{3, "kalloc.64", 64, true, 4096, 64},
                new Object[]{4, "kalloc.80", 80, true, 4096, 51},
                new Object[]{5, "kalloc.96", 96, true, 8192, 85},
                new Object[]{6, "kalloc.128", 128, true, 4096, 32},
                new Object[]{7, "kalloc.160", 160, true, 8192, 51},
                new Object[]{8, "kalloc.192", 192, true, 12288, 64},
                new Object[]{9, "kalloc.224", 224, true, 16384, 73},
                new Object[]{10, "kalloc.256", 256, true, 4096, 16},
                new Object[]{11, "kalloc.288", 288, true, 20480, 71},
                new Object[]{12, "kalloc.368", 368, true, 32768, 89},
                new Object[]{13, "kalloc.400", 400, true, 20480, 51},
                new Object[]{14, "kalloc.512", 512, true, 4096, 8},
                new Object[]{15, "kalloc.576", 576, true, 4096, 7},
                new Object[]{16, "kalloc.768", 768, true, 12288, 16},
                new Object[]{17, "kalloc.1024", 1024, true, 4096, 4},
                new Object[]{18, "kalloc.1152", 1152, false, 8192, 7},
                new Object[]{19, "kalloc.1280", 1280, false, 20480, 16},
                new Object[]{20, "kalloc.1664", 1664, false, 28672, 17},
                new Object[]{21, "kalloc.2048", 2048, true, 4096, 2},
                new Object[]{22, "kalloc.4096", 4096, true, 4096, 1},
                new Object[]{23, "kalloc.6144", 6144, false, 12288, 2},
                new Object[]{24, "kalloc.8192", 8192, true, 8192, 1},
                new Object[]{25, "kalloc.12288", 12288, false, 12288, 1},
                new Object[]{26, "kalloc.16384", 16384, false, 16384, 1});
    }

    @Test
    void thereAreExactly27BucketsInTableOrder() {
        assertThat(Kalloc.BUCKETS).containsExactly(16, 32, 48, 64, 80, 96, 128, 160, 192, 224, 256, 288, 368, 400,
                512, 576, 768, 1024, 1152, 1280, 1664, 2048, 4096, 6144, 8192, 12288, 16384);
        TestKernel t = TestKernel.boot();
        List<String> kallocZones = t.kernel.zalloc().zones().stream().map(Zone::name)
                .filter(n -> n.startsWith("kalloc.")).toList();
        assertThat(kallocZones).hasSize(27);
        for (int i = 0; i < 27; i++) {
            assertThat(kallocZones.get(i)).isEqualTo("kalloc." + Kalloc.BUCKETS[i]);
        }
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("table")
    void bucketMatchesTheFactSheet(int idx, String name, int elemSize, boolean zcache, int allocSize, int perChunk) {
        TestKernel t = TestKernel.boot();
        Zone zone = t.kernel.kalloc().zone(idx);
        assertThat(zone.name()).isEqualTo(name);
        assertThat(zone.elemSize()).isEqualTo(elemSize);
        assertThat(zone.allocSize()).isEqualTo(allocSize);
        assertThat(zone.allocSize() / zone.elemSize()).isEqualTo(perChunk);
        assertThat(zone.caching()).isEqualTo(zcache);
        // zinit defaults kept by kalloc zones.
        assertThat(zone.collectable()).isTrue();
        assertThat(zone.expandable()).isTrue();
        assertThat(zone.exhaustible()).isFalse();
        assertThat(t.kernel.zalloc().zone(name)).isSameAs(zone);
        assertThat(t.kernel.kalloc().zoneFor(elemSize)).isSameAs(zone);
        assertThat(t.kernel.kalloc().bucketSize(elemSize)).isEqualTo(elemSize);

        // Behaviour: the zone takes alloc_size bytes from the zone map each time it grows, and a chunk
        // holds exactly perChunk elements. Fill whatever is partially used first (the kernel's own
        // allocations), until the zone grows.
        // XNU's cur_size grows by the elements carved (zcram adds elem_size per element), zprint's
        // mapped size by whole chunks.
        long before = zone.mappedBytes();
        long curBefore = zone.curSize();
        long first;
        do {
            first = t.kalloc(elemSize);
            assertThat(t.zoneOf(first)).isEqualTo(name);
        } while (zone.mappedBytes() == before);
        assertThat(zone.mappedBytes()).isEqualTo(before + allocSize);
        assertThat(zone.curSize()).isEqualTo(curBefore + (long) perChunk * elemSize);
        for (int i = 1; i < perChunk; i++) {
            t.kalloc(elemSize);
            assertThat(zone.mappedBytes()).as("after %d elements of the new chunk", i + 1).isEqualTo(before + allocSize);
        }
        t.kalloc(elemSize);
        assertThat(zone.mappedBytes()).isEqualTo(before + 2L * allocSize);
        assertThat(zone.curSize()).isEqualTo(curBefore + 2L * perChunk * elemSize);
    }

    @Test
    void initialMaxSizeIsTheChunkSize() {
        TestKernel t = TestKernel.boot();
        for (Object[] row : table()) {
            Zone zone = t.zone((String) row[1]);
            if (zone.curSize() == 0) {
                // zinit(size, size, size): max = max(round_page(size), alloc_size) = alloc_size.
                assertThat(zone.maxSize()).as("%s", row[1]).isEqualTo(((Integer) row[4]).longValue());
            }
        }
    }

    @ParameterizedTest(name = "kalloc({0}) -> {1}")
    @CsvSource({
            "0, kalloc.16",
            "1, kalloc.16",
            "16, kalloc.16",
            "17, kalloc.32",
            "33, kalloc.48",
            "200, kalloc.224",
            "369, kalloc.400",
            "1665, kalloc.2048",
            "2031, kalloc.2048",
            "2032, kalloc.2048",
            "2048, kalloc.2048",
            "2049, kalloc.4096",
            "4096, kalloc.4096",
            "4097, kalloc.6144",
            "6145, kalloc.8192",
            "8192, kalloc.8192",
            "8193, kalloc.12288",
            "12289, kalloc.16384",
            "16384, kalloc.16384"})
    void sizeMapsToTheSmallestBucketThatFits(long size, String zone) {
        TestKernel t = TestKernel.boot();
        long addr = t.kalloc(size);
        assertThat(t.zoneOf(addr)).isEqualTo(zone);
        assertThat(t.kernel.kalloc().zoneFor(size).name()).isEqualTo(zone);
        assertThat(t.kernel.kalloc().kallocSize(addr)).isEqualTo(t.zone(zone).elemSize());
        assertThat(t.kernel.kalloc().bucketSize(size)).isEqualTo(t.zone(zone).elemSize());
        assertThat(addr % 16).as("16-byte alignment").isZero();
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
    }

    @Test
    void everySizeUpTo16384PicksTheSmallestBucketThatFits() {
        TestKernel t = TestKernel.boot();
        Kalloc kalloc = t.kernel.kalloc();
        for (int size = 0; size <= 16384; size++) {
            long expected = 16;
            for (int b : Kalloc.BUCKETS) {
                if (b >= size) {
                    expected = b;
                    break;
                }
            }
            assertThat(kalloc.zoneFor(size).elemSize()).as("size %d", size).isEqualTo(expected);
        }
    }

    @ParameterizedTest(name = "kalloc({0}) is a large block of {1}")
    @CsvSource({"16385, 20480", "20480, 20480", "20481, 24576", "524288, 524288", "524289, 528384"})
    void fromKallocMaxPreroundedTheBlockIsPageRounded(long size, long rounded) {
        TestKernel t = TestKernel.boot();
        assertThat(Kalloc.KALLOC_MAX).isEqualTo(32768);
        assertThat(Kalloc.KALLOC_MAX_PREROUNDED).isEqualTo(16385);
        assertThat(Kalloc.KALLOC_KERNMAP_SIZE).isEqualTo(524289);
        long addr = t.kalloc(size);
        assertThat(addr).isNotZero();
        assertThat(t.zoneOf(addr)).isNull();
        assertThat(addr & AddressSpace.PAGE_MASK).isZero();
        VmMap.Entry block = t.kernel.kalloc().largeBlock(addr);
        assertThat(block).isNotNull();
        assertThat(block.size).isEqualTo(rounded);
        assertThat(block.requested).isEqualTo(size);
        assertThat(t.kernel.kalloc().kallocSize(addr)).isEqualTo(rounded);
        assertThat(t.kernel.kalloc().bucketSize(size)).isEqualTo(rounded);
        // Rounded sizes below kalloc_kernmap_size (524289) come from kalloc_map, the others from kernel_map.
        VmMap expectedMap = rounded < 524289 ? t.kernel.kallocMap() : t.kernel.kernelMap();
        assertThat(expectedMap.entryAt(addr)).isSameAs(block);
    }
}
