package dev.kextharness.bench;

import dev.kextharness.bench.cycle.SmallKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LeakReport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * The warm cycle a kext test pays: boot a kernel, kextload a small kext (its rewritten class
 * bytes come from the link cache after the first load), start it, stop it, unload it and judge
 * what it left. Everything but the Byte Buddy rewrite is done again each time: a fresh kernel, a
 * fresh class loader and class definition, the call-site bindings, the lifecycle log lines and
 * the leak verdict.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KextCycleBenchmark {

    /** One cycle; returns the verdict so that nothing is optimised away. */
    @Benchmark
    public LeakReport warmCycle() {
        return cycle();
    }

    static LeakReport cycle() {
        Kernel kernel = Kernel.boot();
        LoadedKext kext = kernel.kextload(SmallKext.class);
        kernel.kextunload(kext);
        return kernel.leakReport(kext);
    }
}
