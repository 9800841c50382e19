package dev.kextharness.bench;

import dev.kextharness.kernel.Kernel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What {@link Kernel#boot()} costs: a default 32 GiB kernel (12 GiB zone map, the 27 kalloc
 * zones, the allocator families, the Catalina boot processes and their kernel memory, the kext
 * manager), which is what every test that boots its own kernel pays once.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KernelBootBenchmark {
    @Benchmark
    public Kernel boot() {
        return Kernel.boot();
    }
}
