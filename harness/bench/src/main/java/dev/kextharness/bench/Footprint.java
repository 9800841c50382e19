package dev.kextharness.bench;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.zalloc.Zone;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Bytes of Java heap per live kalloc element: boots a default kernel (32 GiB, 12 GiB zone map),
 * measures the used heap after a full GC, allocates {@code count} kalloc.48 elements without
 * writing a byte of them and without keeping their addresses, measures again, and divides. Every
 * round boots a fresh kernel; the median of the rounds is the figure. The target is at most 16
 * bytes per element (the ledger's metadata, the zone chunks and the zone map's page table).
 *
 * <pre>java -cp target/benchmarks.jar dev.kextharness.bench.Footprint [count] [rounds]</pre>
 */
public final class Footprint {
    /** Bytes of heap per live element the harness promises not to exceed. */
    public static final double TARGET_BYTES_PER_ELEMENT = 16.0;

    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private Footprint() {
    }

    public static void main(String[] args) {
        int count = args.length > 0 ? Integer.parseInt(args[0].replace("_", "")) : 10_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        System.out.printf(Locale.ROOT, "JVM: %s %s (%s), max heap %d MiB, GC %s%n",
                System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"),
                System.getProperty("os.arch"), Runtime.getRuntime().maxMemory() >> 20,
                ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
                        .collect(Collectors.joining(", ")));
        System.out.printf(Locale.ROOT, "%d live kalloc.48 elements (kalloc(48) each, no byte written), %d rounds%n",
                count, rounds);

        double[] perElement = new double[rounds];
        for (int round = 0; round < rounds; round++) {
            Measurement m = measure(count);
            perElement[round] = m.bytesPerElement();
            System.out.printf(Locale.ROOT, "round %d: heap used %,d -> %,d bytes after GC, +%,d bytes, %.2f bytes/element%n",
                    round + 1, m.before, m.after, m.after - m.before, m.bytesPerElement());
        }
        double median = median(perElement);
        System.out.printf(Locale.ROOT, "median: %.2f bytes of heap per live element (target <= %.0f): %s%n",
                median, TARGET_BYTES_PER_ELEMENT, median <= TARGET_BYTES_PER_ELEMENT ? "OK" : "OVER TARGET");
        if (median > TARGET_BYTES_PER_ELEMENT) {
            System.exit(1);
        }
    }

    /** Heap used before and after {@code count} live elements, each after a full GC. */
    record Measurement(int count, long before, long after) {
        double bytesPerElement() {
            return (double) (after - before) / count;
        }
    }

    static Measurement measure(int count) {
        Kernel kernel = Kernel.boot();
        int site = kernel.kernelSite(Family.KALLOC, "kalloc", "Footprint");
        Zone zone = kernel.kalloc().zoneFor(48);
        long countBefore = zone.count();
        long before = usedHeapAfterGc();
        for (int i = 0; i < count; i++) {
            long addr = kernel.kalloc().kalloc(48, true, site);
            if (addr == 0) {
                throw new IllegalStateException("kalloc(48) returned 0 after " + i + " elements");
            }
        }
        long after = usedHeapAfterGc();
        if (zone.count() - countBefore != count || kernel.ledger().liveCount(site) != count) {
            throw new IllegalStateException(zone.name() + " holds " + (zone.count() - countBefore)
                    + " new elements, the ledger " + kernel.ledger().liveCount(site) + ", expected " + count);
        }
        Reference.reachabilityFence(kernel);
        return new Measurement(count, before, after);
    }

    /** Used heap after full collections, once two in a row agree to within 64 KiB (at most five). */
    static long usedHeapAfterGc() {
        long previous = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            long used = MEMORY.getHeapMemoryUsage().getUsed();
            if (Math.abs(previous - used) < 64 * 1024) {
                return used;
            }
            previous = used;
        }
        return previous;
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
