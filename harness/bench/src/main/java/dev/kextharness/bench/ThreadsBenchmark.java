package dev.kextharness.bench;

import dev.kextharness.bench.threads.Pairs;
import dev.kextharness.bench.threads.PairsKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LeakReport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many threads on one kernel: {@link PairsKext} does kfree + kalloc pairs (16..1024 bytes, an
 * 8-byte store in each) on blocks of the calling thread's own, through its linked KPI calls, from
 * one thread and from two at once. The work is disjoint, so with per-CPU zone caches and per-CPU
 * ledger rows two threads should give nearly twice the throughput of one (the goal: 1.7x or
 * more). Throughput is in pairs per microsecond, summed over the threads.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ThreadsBenchmark {
    /** Pairs per call into the kext. */
    static final int PAIRS = 4096;

    /** One kernel with the kext loaded, shared by the benchmark's threads. */
    @State(Scope.Benchmark)
    public static class SharedKernel {
        Kernel kernel;
        LoadedKext kext;
        Pairs pairs;

        @Setup(Level.Trial)
        public void load() {
            kernel = Kernel.boot();
            kext = kernel.kextload(PairsKext.class);
            pairs = kext.service(Pairs.class);
        }

        /** Every call freed what it allocated: the unload must find nothing, and nothing panicked. */
        @TearDown(Level.Trial)
        public void check() {
            if (kernel.panicked() || !kernel.ledger().findings().isEmpty()) {
                throw new IllegalStateException("broken workload: panicked=" + kernel.panicked() + ", findings="
                        + kernel.ledger().findings());
            }
            kernel.kextunload(kext);
            LeakReport verdict = kernel.leakReport(kext);
            if (!verdict.isClean()) {
                throw new IllegalStateException("the pairs kext leaked:\n" + verdict.render());
            }
        }
    }

    /** A seed of the thread's own. */
    @State(Scope.Thread)
    public static class Seed {
        private static final AtomicLong NEXT = new AtomicLong(0x5EED);
        long seed;

        @Setup(Level.Trial)
        public void pick() {
            seed = NEXT.getAndIncrement();
        }
    }

    @Benchmark
    @Threads(1)
    @OperationsPerInvocation(PAIRS)
    public long oneThread(SharedKernel shared, Seed seed) {
        return shared.pairs.run(seed.seed++, PAIRS);
    }

    @Benchmark
    @Threads(2)
    @OperationsPerInvocation(PAIRS)
    public long twoThreads(SharedKernel shared, Seed seed) {
        return shared.pairs.run(seed.seed++, PAIRS);
    }
}
