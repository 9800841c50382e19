package dev.kextharness.kernel.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

class SparseMemoryTest {
    private static final long ZONE_START = 0xffffff8040000000L;
    private static final long ZONE_END = ZONE_START + (1L << 20);

    @Test
    void unwrittenZoneMapBytesReadAsZonePoisonAndOthersAsZero() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        assertThat(SparseMemory.ZP_POISON).isEqualTo(0xdeadbeefdeadbeefL);
        assertThat(memory.load8(ZONE_START)).isEqualTo(0xef);
        assertThat(memory.load8(ZONE_START + 1)).isEqualTo(0xbe);
        assertThat(memory.load8(ZONE_START + 2)).isEqualTo(0xad);
        assertThat(memory.load8(ZONE_START + 3)).isEqualTo(0xde);
        assertThat(memory.load8(ZONE_START + 12)).isEqualTo(0xef);
        assertThat(memory.load(ZONE_START + 64, 8)).isEqualTo(0xdeadbeefdeadbeefL);
        assertThat(memory.load(ZONE_START + 4, 4)).isEqualTo(0xdeadbeefL);
        assertThat(memory.load8(ZONE_END)).isZero();
        assertThat(memory.load8(ZONE_START - 1)).isZero();
        assertThat(memory.load(AddressSpace.KALLOC_MAP_BASE, 8)).isZero();
        assertThat(memory.materializedPages()).isZero();
    }

    @Test
    void storesAreLittleEndian() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        long addr = AddressSpace.KERNEL_MAP_BASE + 100;
        memory.store(addr, 8, 0x0102030405060708L);
        assertThat(memory.load8(addr)).isEqualTo(0x08);
        assertThat(memory.load8(addr + 7)).isEqualTo(0x01);
        assertThat(memory.load(addr, 8)).isEqualTo(0x0102030405060708L);
        assertThat(memory.load(addr, 4)).isEqualTo(0x05060708L);
        assertThat(memory.load(addr + 2, 2)).isEqualTo(0x0506L);
        memory.store(addr, 2, 0xffffffffL);
        assertThat(memory.load(addr, 8)).isEqualTo(0x010203040506ffffL);
    }

    @Test
    void storesAcrossAPageBoundary() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        long addr = AddressSpace.KERNEL_MAP_BASE + 4092;
        memory.store(addr, 8, -1L);
        assertThat(memory.load(addr, 8)).isEqualTo(-1L);
        assertThat(memory.materializedPages()).isEqualTo(2);
    }

    @Test
    void aNewZoneMapPageKeepsThePoisonAroundAWrite() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        List<Long> seen = new ArrayList<>();
        memory.setPageObserver(seen::add);
        memory.store8(ZONE_START + 4100, 0);
        assertThat(seen).containsExactly(ZONE_START + 4096);
        assertThat(memory.load(ZONE_START + 4096, 8)).isEqualTo(0xdeadbe00deadbeefL);
        assertThat(memory.load(ZONE_START + 4104, 8)).isEqualTo(SparseMemory.ZP_POISON);
        assertThat(memory.anyMaterialized(ZONE_START, 4096)).isFalse();
        assertThat(memory.anyMaterialized(ZONE_START, 4097)).isTrue();
    }

    @Test
    void fillPoisonAndDiscard() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        memory.fill(ZONE_START, 32, 0);
        assertThat(memory.load(ZONE_START + 24, 8)).isZero();
        memory.poison(ZONE_START + 8, 16);
        assertThat(memory.load(ZONE_START, 8)).isZero();
        assertThat(memory.load(ZONE_START + 8, 8)).isEqualTo(SparseMemory.ZP_POISON);
        assertThat(memory.load(ZONE_START + 16, 8)).isEqualTo(SparseMemory.ZP_POISON);
        assertThat(memory.load(ZONE_START + 24, 8)).isZero();
        // Poisoning does not create pages: unwritten zone-map pages are poison already.
        memory.poison(ZONE_START + 8192, 64);
        assertThat(memory.materializedPages()).isEqualTo(1);
        memory.discard(ZONE_START, 4096);
        assertThat(memory.materializedPages()).isZero();
        assertThat(memory.load(ZONE_START, 8)).isEqualTo(SparseMemory.ZP_POISON);
        long k = AddressSpace.KERNEL_MAP_BASE;
        memory.fill(k, 10, 0x41);
        memory.discard(k, 10);
        assertThat(memory.load(k, 8)).isZero();
    }

    @Test
    void poisonOfAnUnalignedRangeWritesEachBytesOwnPoisonByte() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        memory.fill(ZONE_START, 48, 0);
        memory.poison(ZONE_START + 3, 30);
        assertThat(memory.load(ZONE_START, 8)).isEqualTo(0xdeadbeefde000000L);
        assertThat(memory.load(ZONE_START + 8, 8)).isEqualTo(SparseMemory.ZP_POISON);
        assertThat(memory.load(ZONE_START + 32, 8)).isEqualTo(0x00000000000000efL);
        assertThat(memory.load(ZONE_START + 3, 4)).isEqualTo(0xadbeefdeL);
    }

    @Test
    void fillAcrossAPageBoundaryWritesBothPagesAndTellsTheObserverOfEach() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        List<Long> seen = new ArrayList<>();
        memory.setPageObserver(seen::add);
        memory.fill(ZONE_START + 4090, 12, 0x41);
        assertThat(seen).containsExactly(ZONE_START, ZONE_START + 4096);
        assertThat(memory.load(ZONE_START + 4088, 8)).isEqualTo(0x414141414141beefL);
        assertThat(memory.load(ZONE_START + 4096, 8)).isEqualTo(0xdead414141414141L);
        assertThat(memory.load(ZONE_START + 4094, 4)).isEqualTo(0x41414141L);
    }

    @Test
    void firstUnpoisonedWordFindsTheModifiedWordAndSkipsUnwrittenPages() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        long element = ZONE_START + 4096 - 32; // 64 bytes over two pages, only the first written
        assertThat(memory.firstUnpoisonedWord(element, 64)).isEqualTo(-1);
        memory.store(element + 8, 8, 0);
        assertThat(memory.firstUnpoisonedWord(element, 64)).isEqualTo(8);
        memory.poison(element, 64);
        assertThat(memory.firstUnpoisonedWord(element, 64)).isEqualTo(-1);
        memory.store8(element + 40, 0xee);
        assertThat(memory.firstUnpoisonedWord(element, 64)).isEqualTo(40);
        assertThat(memory.firstUnpoisonedWord(AddressSpace.KERNEL_MAP_BASE, 16))
                .as("unwritten memory outside the zone map reads as zero").isZero();
    }

    @Test
    void aWholePageFillSharesOnePageOfThatValueAndAPartialWriteCopiesIt() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        long k = AddressSpace.KERNEL_MAP_BASE;
        memory.fill(k, 1L << 30, 0x41); // a GiB of 'A': 262,144 pages, none of them with bytes of its own
        assertThat(memory.privatePages()).isZero();
        assertThat(memory.materializedPages()).isEqualTo(262_144);
        assertThat(memory.load(k + 123_456_789, 8)).isEqualTo(0x4141414141414141L);
        memory.store8(k + 4096 + 5, 0x42);
        assertThat(memory.privatePages()).isEqualTo(1);
        assertThat(memory.load(k + 4096, 8)).isEqualTo(0x4141424141414141L);
        assertThat(memory.load(k + 8192, 8)).as("the shared page itself is untouched").isEqualTo(0x4141414141414141L);
        memory.fill(k, 1L << 30, 0); // zeros outside the zone map: no page at all
        assertThat(memory.materializedPages()).isZero();
        assertThat(memory.load(k + 4096, 8)).isZero();
    }

    @Test
    void zeroFillOfUnwrittenMemoryOutsideTheZoneMapCostsNothing() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        memory.fill(AddressSpace.KERNEL_MAP_BASE + 100, 3L << 30, 0);
        assertThat(memory.materializedPages()).isZero();
    }

    @Test
    void copiesMoveRunsBothWaysAndOverlappingCopiesAreMemmoves() {
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        long k = AddressSpace.KERNEL_MAP_BASE;
        for (int i = 0; i < 10_000; i++) {
            memory.store8(k + i, i & 0xff);
        }
        memory.copyChecked(k, k + 3, 10_000); // forward overlap: must copy from the end
        for (int i = 0; i < 10_000; i++) {
            assertThat(memory.load8(k + 3 + i)).as("byte %d", i).isEqualTo(i & 0xff);
        }
        memory.copyChecked(k + 3, k, 10_000); // backward overlap
        for (int i = 0; i < 10_000; i++) {
            assertThat(memory.load8(k + i)).as("byte %d", i).isEqualTo(i & 0xff);
        }
        int before = memory.materializedPages();
        memory.copyChecked(k + (1L << 20), k + (2L << 20), 1L << 20); // unwritten zeros over unwritten zeros
        assertThat(memory.materializedPages()).isEqualTo(before);
        memory.copyChecked(ZONE_START, k + (4L << 20), 16); // zone poison copied out
        assertThat(memory.load(k + (4L << 20), 8)).isEqualTo(SparseMemory.ZP_POISON);
    }

    @Test
    void threadsWritingOneFreshPageAtOnceKeepEveryWriteAndMakeOnePage() throws Exception {
        // Every round, eight threads released together write their own words of the same unwritten
        // pages (a zone page and a kernel_map page): whichever thread's page wins the publication,
        // no write may land on a page that loses.
        int threads = 8;
        int rounds = 200;
        SparseMemory memory = new SparseMemory(ZONE_START, ZONE_END);
        CyclicBarrier start = new CyclicBarrier(threads);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread worker = new Thread(() -> {
                try {
                    for (int round = 0; round < rounds; round++) {
                        start.await();
                        memory.store(ZONE_START + round * AddressSpace.PAGE_SIZE + 8L * id, 8, round * 16L + id);
                        memory.store(AddressSpace.KERNEL_MAP_BASE + round * AddressSpace.PAGE_SIZE + 8L * id, 8,
                                round * 16L + id);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        assertThat(failures).isEmpty();
        for (int round = 0; round < rounds; round++) {
            for (int id = 0; id < threads; id++) {
                assertThat(memory.load(ZONE_START + round * AddressSpace.PAGE_SIZE + 8L * id, 8)).isEqualTo(round * 16L + id);
                assertThat(memory.load(AddressSpace.KERNEL_MAP_BASE + round * AddressSpace.PAGE_SIZE + 8L * id, 8))
                        .isEqualTo(round * 16L + id);
            }
            assertThat(memory.load(ZONE_START + round * AddressSpace.PAGE_SIZE + 8L * threads, 8))
                    .as("the rest of a zone page is still poison").isEqualTo(SparseMemory.ZP_POISON);
        }
        assertThat(memory.materializedPages()).isEqualTo(2 * rounds);
        assertThat(memory.privatePages()).isEqualTo(2 * rounds);
    }
}
