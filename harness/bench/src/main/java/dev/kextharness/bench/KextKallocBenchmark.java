package dev.kextharness.bench;

import dev.kextharness.bench.ring.KallocRing;
import dev.kextharness.bench.ring.RingKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
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
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * {@link KallocBenchmark}'s ring ({@code touch=false}), but run by a loaded kext: {@link RingKext}
 * calls {@code Kalloc.kalloc} and {@code Kalloc.kfree} of the KPI facade, which the link rewrote
 * into invokedynamic call sites bound to the kernel's {@code KallocKpi} with the kext's own call
 * sites. That is the path a kext under test takes, so {@code tracked} here against {@code
 * kallocKfree} of {@code KallocBenchmark} is the cost of the link, and against its {@code
 * untracked} the whole "tracking on vs off" of a kext. One invocation is {@link #PAIRS} pairs
 * through one call of the service interface; the score is per pair.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KextKallocBenchmark {
    /** kfree + kalloc pairs per call into the kext. */
    static final int PAIRS = 1024;

    /** A booted kernel with {@link RingKext} loaded and its ring full. */
    @State(Scope.Thread)
    public static class KextRing {
        /** As {@link KallocBenchmark.KernelRing#config}. */
        @Param({"tracked", "findingsOff", "untracked"})
        public String config;

        Kernel kernel;
        LoadedKext kext;
        KallocRing ring;

        @Setup(Level.Trial)
        public void load() {
            KernelConfig kernelConfig = switch (config) {
                case "tracked" -> KernelConfig.defaults();
                case "findingsOff", "untracked" -> KernelConfig.defaults().withFindings(false);
                default -> throw new IllegalArgumentException("unknown config " + config);
            };
            kernel = Kernel.boot(kernelConfig);
            kext = kernel.kextload(RingKext.class);
            if (config.equals("untracked")) {
                kernel.ledger().stopCounting(); // after the load, whose own allocations are counted
            }
            ring = kext.service(KallocRing.class);
            if (!ring.fill(KallocBenchmark.sizeSequence(), KallocBenchmark.LIVE)) {
                throw new IllegalStateException("the ring kext's kalloc returned NULL while filling the ring");
            }
        }

        /** The kext's live blocks, found by walking the zones (so also when the ledger does not count). */
        long liveBlocks() {
            return kernel.snapshot().kext(kext.loadTag()).count();
        }

        /** Sanity at the end of a trial: see {@link #unloadChecked()}. */
        @TearDown(Level.Trial)
        public void check() {
            unloadChecked();
        }

        /**
         * Checks that nothing panicked or was reported and that the ring holds exactly its blocks,
         * then unloads the kext, which must leave nothing. Returns the unload's verdict.
         */
        LeakReport unloadChecked() {
            long live = liveBlocks();
            if (kernel.panicked() || live != KallocBenchmark.LIVE || !kernel.ledger().findings().isEmpty()) {
                throw new IllegalStateException("broken workload: panicked=" + kernel.panicked() + ", live="
                        + live + " (expected " + KallocBenchmark.LIVE + "), findings=" + kernel.ledger().findings());
            }
            kernel.kextunload(kext);
            LeakReport verdict = kernel.leakReport(kext);
            if (!verdict.isClean()) {
                throw new IllegalStateException("the ring kext leaked:\n" + verdict.render());
            }
            return verdict;
        }
    }

    /** {@link #PAIRS} kfree + kalloc pairs, called by the kext through its linked KPI calls. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long kextKallocKfree(KextRing ring) {
        return ring.ring.run(PAIRS);
    }
}
