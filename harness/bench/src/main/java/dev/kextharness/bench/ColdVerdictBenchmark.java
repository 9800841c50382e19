package dev.kextharness.bench;

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
 * The cold cycle the first kext test of a JVM pays: the first boot, kextload, unload and verdict
 * in a fresh JVM (one shot per fork, no warm-up), as {@link KextCycleBenchmark#cycle()} does it.
 * {@code firstVerdict} asks for no JSON, as a JUnit test or a text {@code load} does;
 * {@code firstVerdictAsJson} also writes the report as JSON, which is where Jackson's start-up
 * belongs.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@Fork(20)
public class ColdVerdictBenchmark {

    @Benchmark
    public LeakReport firstVerdict() {
        return KextCycleBenchmark.cycle();
    }

    @Benchmark
    public String firstVerdictAsJson() {
        return KextCycleBenchmark.cycle().toJson();
    }
}
