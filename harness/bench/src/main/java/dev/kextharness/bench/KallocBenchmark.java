package dev.kextharness.bench;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.Family;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The cost of one {@code kfree} + {@code kalloc} pair in a steady mixed workload of small sizes:
 * a ring of {@link #LIVE} live blocks, each operation frees the oldest and allocates a new one
 * whose size is the next of a fixed pseudo-random sequence of sizes 1..1024 (18 kalloc buckets,
 * kalloc.16 to kalloc.1024). With {@code touch=false} no byte of any block is written, so the
 * poison work is skipped (chunks are never touched); with {@code touch=true} the first 8 bytes of
 * every new block are written, which turns on XNU's poisoning at free and its check at reuse.
 *
 * <ul>
 *   <li>{@code kallocKfree} with {@code config=tracked}: {@link KernelConfig#defaults()}, findings on;</li>
 *   <li>{@code kallocKfree} with {@code config=findingsOff}: the same kernel, harness findings off
 *       (the family and size checks of every kfree are skipped; the ledger still counts);</li>
 *   <li>{@code kallocKfree} with {@code config=untracked}: findings off and the ledger's per-site
 *       counting stopped ({@code Ledger.stopCounting()}): the kernel without tracking, zalloc's and
 *       kalloc's own work only;</li>
 *   <li>{@code rawFreeList}: a hand-written segregated free list over a {@code long[]}, same
 *       sequence and ring: the floor of a pop and a push, with no kernel at all.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KallocBenchmark {
    /** Live blocks in the ring (a power of two). */
    static final int LIVE = 4096;
    /** Length of the size sequence (a power of two), longer than the ring so that pairs vary. */
    static final int SEQUENCE_LENGTH = 1 << 16;
    /** Largest size drawn. */
    static final int MAX_SIZE = 1024;
    private static final long SEED = 0x6b616c6c6f63L;

    /** The fixed size sequence: the same in every fork, JVM and run. */
    static int[] sizeSequence() {
        SplittableRandom random = new SplittableRandom(SEED);
        int[] sizes = new int[SEQUENCE_LENGTH];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = 1 + random.nextInt(MAX_SIZE);
        }
        return sizes;
    }

    /** A booted kernel with the ring of live kalloc blocks already full. */
    @State(Scope.Thread)
    public static class KernelRing {
        /**
         * {@code tracked}: the default configuration. {@code findingsOff}: findings disabled.
         * {@code untracked}: findings disabled and the ledger's counting stopped.
         */
        @Param({"tracked", "findingsOff", "untracked"})
        public String config;

        /**
         * {@code false}: no byte of any block is written (chunks stay untouched, so no poison is
         * written at free nor checked at reuse). {@code true}: the first 8 bytes of every new block
         * are stored through {@code kernel.memory()}, as a kext that initialises its structure does;
         * from then on every kfree poisons the element and every kalloc checks the poison.
         */
        @Param({"false", "true"})
        public boolean touch;

        Kernel kernel;
        Kalloc kalloc;
        int allocSite;
        int freeSite;
        final int[] sizes = sizeSequence();
        final long[] ring = new long[LIVE];
        final int[] ringSizes = new int[LIVE];
        int cursor;

        @Setup(Level.Trial)
        public void boot() {
            KernelConfig kernelConfig = switch (config) {
                case "tracked" -> KernelConfig.defaults();
                case "findingsOff", "untracked" -> KernelConfig.defaults().withFindings(false);
                default -> throw new IllegalArgumentException("unknown config " + config);
            };
            kernel = Kernel.boot(kernelConfig);
            if (config.equals("untracked")) {
                kernel.ledger().stopCounting();
            }
            kalloc = kernel.kalloc();
            allocSite = kernel.kernelSite(Family.KALLOC, "kalloc", "KallocBenchmark");
            freeSite = kernel.kernelSite(Family.KALLOC, "kfree", "KallocBenchmark");
            for (int i = 0; i < LIVE; i++) {
                int size = sizes[i];
                ring[i] = allocate(size);
                ringSizes[i] = size;
            }
            cursor = LIVE;
        }

        private long allocate(int size) {
            long addr = kalloc.kalloc(size, true, allocSite);
            if (addr == 0) {
                throw new IllegalStateException("kalloc(" + size + ") returned 0");
            }
            if (touch) {
                kernel.memory().store(addr, 8, addr);
            }
            return addr;
        }

        /** One pair: frees the oldest block of the ring and allocates the next size in its place. */
        long step() {
            int slot = cursor & (LIVE - 1);
            kalloc.kfree(ring[slot], ringSizes[slot], freeSite);
            int size = sizes[cursor & (SEQUENCE_LENGTH - 1)];
            long addr = kalloc.kalloc(size, true, allocSite);
            if (touch) {
                kernel.memory().store(addr, 8, addr);
            }
            ring[slot] = addr;
            ringSizes[slot] = size;
            cursor++;
            return addr;
        }

        /** The benchmark's live blocks, found by walking the zones (so also when the ledger does not count). */
        long liveBlocks() {
            return kernel.snapshot().filter(g -> g.site().id() == allocSite).count();
        }

        /** Sanity at the end of a trial: nothing panicked, nothing was reported, nothing leaked. */
        @TearDown(Level.Trial)
        public void check() {
            long live = liveBlocks();
            if (kernel.panicked() || live != LIVE || !kernel.ledger().findings().isEmpty()) {
                throw new IllegalStateException("broken workload: panicked=" + kernel.panicked() + ", live="
                        + live + " (expected " + LIVE + "), findings=" + kernel.ledger().findings());
            }
        }
    }

    /** The same ring and sequence over {@link FreeListAllocator}. */
    @State(Scope.Thread)
    public static class RawRing {
        final FreeListAllocator allocator = new FreeListAllocator(LIVE);
        final int[] sizes = sizeSequence();
        final long[] ring = new long[LIVE];
        final int[] ringSizes = new int[LIVE];
        int cursor;

        @Setup(Level.Trial)
        public void fill() {
            for (int i = 0; i < LIVE; i++) {
                ring[i] = allocator.alloc(sizes[i]);
                ringSizes[i] = sizes[i];
            }
            cursor = LIVE;
        }

        long step() {
            int slot = cursor & (LIVE - 1);
            allocator.free(ring[slot], ringSizes[slot]);
            int size = sizes[cursor & (SEQUENCE_LENGTH - 1)];
            long addr = allocator.alloc(size);
            ring[slot] = addr;
            ringSizes[slot] = size;
            cursor++;
            return addr;
        }
    }

    /** One kfree + kalloc pair through the simulated kernel. */
    @Benchmark
    public long kallocKfree(KernelRing ring) {
        return ring.step();
    }

    /** One free + alloc pair through the raw free list: the cost floor. */
    @Benchmark
    public long rawFreeList(RawRing ring) {
        return ring.step();
    }

    /**
     * The baseline: kalloc's 18 buckets up to 1024 bytes, each a LIFO free list of fixed slots
     * threaded through a {@code long[]}, with kalloc's {@code (size + 15) >> 4} lookup table. An
     * address is {@code BASE + slot * 1024}. No checks, no counters, no metadata: what is left is
     * one table lookup, one pop and one push.
     */
    static final class FreeListAllocator {
        private static final long BASE = 0xffffff8040000000L;
        private static final int SLOT_SHIFT = 10;

        private final byte[] bucketOf = new byte[MAX_SIZE / 16 + 1];
        private final int[] head;
        /** For each free slot, the next free slot of its bucket, or -1. */
        private final long[] next;

        FreeListAllocator(int slotsPerBucket) {
            int buckets = 0;
            while (Kalloc.BUCKETS[buckets] <= MAX_SIZE) {
                buckets++;
            }
            int bucket = 0;
            for (int i = 0; i < bucketOf.length; i++) {
                while (Kalloc.BUCKETS[bucket] < i * 16) {
                    bucket++;
                }
                bucketOf[i] = (byte) bucket;
            }
            head = new int[buckets];
            next = new long[buckets * slotsPerBucket];
            for (int b = 0; b < buckets; b++) {
                int first = b * slotsPerBucket;
                for (int s = 0; s < slotsPerBucket; s++) {
                    next[first + s] = s + 1 < slotsPerBucket ? first + s + 1 : -1;
                }
                head[b] = first;
            }
        }

        /** Pops a slot of the size's bucket, or returns 0 when the bucket is empty. */
        long alloc(int size) {
            int bucket = bucketOf[(size + 15) >>> 4];
            int slot = head[bucket];
            if (slot < 0) {
                return 0;
            }
            head[bucket] = (int) next[slot];
            return BASE + ((long) slot << SLOT_SHIFT);
        }

        /** Pushes the block back on its size's bucket. */
        void free(long addr, int size) {
            int bucket = bucketOf[(size + 15) >>> 4];
            int slot = (int) ((addr - BASE) >>> SLOT_SHIFT);
            next[slot] = head[bucket];
            head[bucket] = slot;
        }

        /** The bucket's element size for a request size (for the smoke test). */
        int bucketSize(int size) {
            return Kalloc.BUCKETS[bucketOf[(size + 15) >>> 4]];
        }
    }
}
