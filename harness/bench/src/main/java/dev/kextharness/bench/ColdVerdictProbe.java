package dev.kextharness.bench;

import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Locale;

/**
 * The first verdict of a fresh JVM, measured in ways a loaded machine disturbs less than wall
 * time: the classes the first cycle loads and the CPU time of the thread that runs it. Run it in
 * a new JVM each time (see performance.md): {@code java -cp target/benchmarks.jar
 * dev.kextharness.bench.ColdVerdictProbe [json]}; with {@code json} the report is also written as
 * JSON, as {@code load --json} does.
 */
public final class ColdVerdictProbe {
    private ColdVerdictProbe() {
    }

    public static void main(String[] args) {
        boolean json = args.length > 0 && args[0].equals("json");
        ClassLoadingMXBean classes = ManagementFactory.getClassLoadingMXBean();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long loadedBefore = classes.getTotalLoadedClassCount();
        long cpuBefore = threads.getCurrentThreadCpuTime();
        long wallBefore = System.nanoTime();

        Object verdict = json ? KextCycleBenchmark.cycle().toJson() : KextCycleBenchmark.cycle();

        long wall = System.nanoTime() - wallBefore;
        long cpu = threads.getCurrentThreadCpuTime() - cpuBefore;
        long loaded = classes.getTotalLoadedClassCount() - loadedBefore;
        System.out.printf(Locale.ROOT, "first verdict%s: %d classes loaded, %.1f ms CPU, %.1f ms wall (%s)%n",
                json ? " as JSON" : "", loaded, cpu / 1e6, wall / 1e6, verdict.getClass().getSimpleName());
    }
}
