package dev.kextharness.bench;

import dev.kextharness.bench.ring.KallocRing;
import dev.kextharness.bench.ring.RingKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.kext.Preemption;
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

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the kext boundary costs on {@link KextKallocBenchmark}'s workload: the preemption points
 * the link puts at each method entry and loop back-edge of the ring kext, and the watchdog that
 * times each service call (one call per {@link #PAIRS} pairs). {@code mode}:
 * <ul>
 *   <li>{@code points+watchdog}: as every kext runs (the default watchdog limit);</li>
 *   <li>{@code points}: preemption points, watchdog off;</li>
 *   <li>{@code none}: linked without points ({@link Preemption#POINTS_PROPERTY}), watchdog off:
 *       the baseline.</li>
 * </ul>
 * Each mode runs in a JVM of its own (JMH forks per parameter), so the link reads the property
 * before any kext is linked. The score is per kfree + kalloc pair.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PreemptionPointsBenchmark {
    static final int PAIRS = KextKallocBenchmark.PAIRS;

    @State(Scope.Thread)
    public static class Ring {
        @Param({"points+watchdog", "points", "none"})
        public String mode;

        Kernel kernel;
        LoadedKext kext;
        KallocRing ring;

        @Setup(Level.Trial)
        public void load() {
            System.setProperty(Preemption.POINTS_PROPERTY, Boolean.toString(!mode.equals("none")));
            KernelConfig config = mode.equals("points+watchdog") ? KernelConfig.defaults()
                    : KernelConfig.defaults().withWatchdog(Duration.ZERO);
            kernel = Kernel.boot(config);
            kext = kernel.kextload(RingKext.class);
            ring = kext.service(KallocRing.class);
            if (!ring.fill(KallocBenchmark.sizeSequence(), KallocBenchmark.LIVE)) {
                throw new IllegalStateException("the ring kext's kalloc returned NULL while filling the ring");
            }
        }

        @TearDown(Level.Trial)
        public void check() {
            if (kernel.panicked()) {
                throw new IllegalStateException("broken workload: the kernel panicked: " + kernel.panic().panicString());
            }
            kernel.kextunload(kext);
            if (!kernel.leakReport(kext).isClean()) {
                throw new IllegalStateException("the ring kext leaked:\n" + kernel.leakReport(kext).render());
            }
        }
    }

    /** {@link #PAIRS} kfree + kalloc pairs in one service call into the kext. */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public long kextKallocKfree(Ring ring) {
        return ring.ring.run(PAIRS);
    }
}
