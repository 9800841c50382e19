package dev.kextharness.bench;

import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.LeakReport;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Smoke test of the benchmarks' workloads, run in-process without JMH: they do what they claim
 * (so that a figure measures the intended thing). Nothing here is timed.
 */
class BenchmarkWorkloadTest {
    private static final int STEPS = 3 * KallocBenchmark.LIVE;

    @Test
    void sizeSequenceIsFixedAndCoversTheSmallBuckets() {
        int[] sizes = KallocBenchmark.sizeSequence();
        assertThat(sizes).isEqualTo(KallocBenchmark.sizeSequence());
        assertThat(java.util.Arrays.stream(sizes).min().getAsInt()).isEqualTo(1);
        assertThat(java.util.Arrays.stream(sizes).max().getAsInt()).isEqualTo(KallocBenchmark.MAX_SIZE);
        Set<Integer> buckets = new HashSet<>();
        for (int s : sizes) {
            buckets.add(new KallocBenchmark.FreeListAllocator(1).bucketSize(s));
        }
        assertThat(buckets).hasSize(18).contains(16, 1024);
    }

    @Test
    void kernelRingKeepsExactlyLiveBlocksWithoutFindings() {
        for (String config : new String[]{"tracked", "findingsOff", "untracked"}) {
            for (boolean touch : new boolean[]{false, true}) {
                runRing(config, touch);
            }
        }
    }

    private static void runRing(String config, boolean touch) {
        KallocBenchmark.KernelRing ring = new KallocBenchmark.KernelRing();
        ring.config = config;
        ring.touch = touch;
        ring.boot();
        assertThat(ring.kernel.config().findings()).isEqualTo(config.equals("tracked"));
        for (int i = 0; i < STEPS; i++) {
            int size = ring.sizes[ring.cursor & (KallocBenchmark.SEQUENCE_LENGTH - 1)];
            long addr = ring.step();
            assertThat(ring.kalloc.kallocSize(addr)).isEqualTo(ring.kalloc.bucketSize(size));
        }
        ring.check(); // throws on a panic, a finding, or a live count other than LIVE
        assertThat(ring.kernel.ledger().counting()).isEqualTo(!config.equals("untracked"));
        assertThat(ring.kernel.ledger().liveCount(ring.allocSite))
                .isEqualTo(config.equals("untracked") ? 0 : KallocBenchmark.LIVE);
        assertThat(distinct(ring.ring)).isEqualTo(KallocBenchmark.LIVE);
        int pages = ring.kernel.memory().materializedPages();
        if (touch) {
            assertThat(pages).as("pages written").isPositive();
            assertThat(ring.kernel.memory().load(ring.ring[0], 8)).isEqualTo(ring.ring[0]);
        } else {
            assertThat(pages).as("pages written").isZero();
        }
    }

    @Test
    void kextRingRunsThroughTheLinkedKpiAndUnloadsClean() {
        for (String config : new String[]{"tracked", "findingsOff", "untracked"}) {
            runKextRing(config);
        }
    }

    private static void runKextRing(String config) {
        KextKallocBenchmark.KextRing state = new KextKallocBenchmark.KextRing();
        state.config = config;
        state.load();
        assertThat(state.kernel.config().findings()).isEqualTo(config.equals("tracked"));
        int[] sizes = KallocBenchmark.sizeSequence();
        int calls = STEPS / KextKallocBenchmark.PAIRS;
        for (int call = 0; call < calls; call++) {
            int size = state.ring.nextSize();
            assertThat(size).isEqualTo(sizes[(KallocBenchmark.LIVE + call * KextKallocBenchmark.PAIRS)
                    & (KallocBenchmark.SEQUENCE_LENGTH - 1)]);
            long addr = state.ring.run(KextKallocBenchmark.PAIRS);
            assertThat(addr).isNotZero();
        }
        long[] blocks = new long[KallocBenchmark.LIVE];
        for (int slot = 0; slot < blocks.length; slot++) {
            blocks[slot] = state.ring.block(slot);
        }
        assertThat(distinct(blocks)).isEqualTo(KallocBenchmark.LIVE);
        // Each block is the kext's, in the bucket of the size the ring asked for, from its own call sites.
        int cursor = KallocBenchmark.LIVE + calls * KextKallocBenchmark.PAIRS;
        for (int back = 1; back <= KallocBenchmark.LIVE; back++) {
            int slot = (cursor - back) & (KallocBenchmark.LIVE - 1);
            int size = sizes[(cursor - back) & (KallocBenchmark.SEQUENCE_LENGTH - 1)];
            assertThat(state.kernel.kalloc().kallocSize(blocks[slot])).isEqualTo(state.kernel.kalloc().bucketSize(size));
        }
        assertThat(state.kernel.snapshot().kext(state.kext.loadTag()).groups())
                .isNotEmpty()
                .allSatisfy(g -> assertThat(g.site().bundleId()).isEqualTo("dev.kextharness.bench.ring"));
        assertThat(state.kernel.ledger().counting()).isEqualTo(!config.equals("untracked"));
        if (!config.equals("untracked")) {
            assertThat(state.kernel.ledger().liveCountOfKext(state.kext.loadTag())).isEqualTo(KallocBenchmark.LIVE);
        }
        LeakReport verdict = state.unloadChecked(); // throws on a panic, a finding, a wrong live count or a leak
        assertThat(verdict.bundleId()).isEqualTo("dev.kextharness.bench.ring");
        assertThat(state.kernel.snapshot().kext(state.kext.loadTag()).isEmpty()).isTrue();
    }

    @Test
    void rawFreeListHandsOutEachSlotOnceAndReusesFreedOnes() {
        KallocBenchmark.RawRing ring = new KallocBenchmark.RawRing();
        ring.fill();
        for (int i = 0; i < STEPS; i++) {
            assertThat(ring.step()).isNotZero();
        }
        assertThat(distinct(ring.ring)).isEqualTo(KallocBenchmark.LIVE);

        KallocBenchmark.FreeListAllocator allocator = new KallocBenchmark.FreeListAllocator(2);
        long a = allocator.alloc(40);
        long b = allocator.alloc(48);
        assertThat(allocator.alloc(33)).isZero(); // kalloc.48's two slots are taken
        allocator.free(a, 40);
        assertThat(allocator.alloc(48)).isEqualTo(a);
        assertThat(b).isNotEqualTo(a);
        assertThat(allocator.bucketSize(1)).isEqualTo(Kalloc.BUCKETS[0]);
    }

    private static long distinct(long[] addresses) {
        return java.util.Arrays.stream(addresses).distinct().count();
    }

    @Test
    void kextCycleLoadsAndUnloadsTheSmallKextCleanly() {
        for (int i = 0; i < 3; i++) {
            LeakReport verdict = KextCycleBenchmark.cycle();
            assertThat(verdict.bundleId()).isEqualTo("dev.kextharness.bench.small");
            assertThat(verdict.isClean()).isTrue();
        }
    }
}
