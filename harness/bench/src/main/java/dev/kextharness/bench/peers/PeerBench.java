package dev.kextharness.bench.peers;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LedgerSnapshot;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The C peers' workloads run by a kext, timed in process the way {@code kleak_bench.c} times
 * itself: the workload call alone ({@code work_ns}), per kalloc or kfree ({@code ops}). Each
 * measured run boots a fresh default kernel (findings on, every access checked), loads
 * {@link PeerWorkloadKext}, runs one workload through its service interface, checks that the
 * kext holds exactly the blocks the C program leaks, and unloads it (the leak verdict, like
 * LSan's exit-time report, is outside {@code work_ns}). Warm-up runs of the same size come first,
 * in the same JVM, so that the figures are of compiled code.
 *
 * <pre>
 * java -cp target/benchmarks.jar dev.kextharness.bench.peers.PeerBench [pairs|churn|leakstorm|all] [8|all] [runs] [warmups] [n]
 * </pre>
 * One line per measured run, in the C program's format, then the median.
 */
public final class PeerBench {
    private PeerBench() {
    }

    public static void main(String[] args) {
        String which = args.length > 0 ? args[0] : "all";
        if (which.equals("bulk")) {
            bulk();
            return;
        }
        boolean touchAll = args.length > 1 && args[1].equals("all");
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int warmups = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        List<String> workloads = which.equals("all") ? List.of("pairs", "churn", "leakstorm") : List.of(which);
        for (String workload : workloads) {
            long n = args.length > 4 ? Long.parseLong(args[4]) : defaultN(workload);
            for (int i = 0; i < warmups; i++) {
                run(workload, n, touchAll);
            }
            List<Double> perOp = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                Result r = run(workload, n, touchAll);
                perOp.add((double) r.workNanos / r.ops);
                System.out.printf(Locale.ROOT, "workload=%s touch=%s n=%d ops=%d expect_leaked_blocks=%d work_ns=%d "
                                + "checksum=%016x ns_per_op=%.1f load=%s%n", workload, touchAll ? "all" : "8", n, r.ops,
                        r.leaked, r.workNanos, r.checksum, (double) r.workNanos / r.ops, loadAverage());
            }
            double[] sorted = perOp.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf(Locale.ROOT, "median workload=%s touch=%s ns_per_op=%.1f (min %.1f, max %.1f, %d runs)%n",
                    workload, touchAll ? "all" : "8", median(sorted), sorted[0], sorted[sorted.length - 1], runs);
        }
    }

    /** Bulk memset and bcopy of 64 MiB kalloc blocks through the KPI, in GB/s (10^9 bytes a second). */
    static void bulk() {
        long size = 64L << 20;
        int rounds = 20;
        for (boolean copy : new boolean[]{false, true}) {
            for (int run = 0; run < 5; run++) {
                Kernel kernel = Kernel.boot(KernelConfig.defaults());
                LoadedKext kext = kernel.kextload(PeerWorkloadKext.class);
                PeerWorkloads workloads = kext.service(PeerWorkloads.class);
                long start = System.nanoTime();
                workloads.bulk(size, rounds, copy);
                long nanos = System.nanoTime() - start;
                kernel.kextunload(kext);
                System.out.printf(Locale.ROOT, "bulk %s size=%d rounds=%d GB/s=%.2f load=%s%n", copy ? "bcopy" : "memset",
                        size, rounds, (double) size * rounds / nanos, loadAverage());
            }
        }
    }

    static long defaultN(String workload) {
        return workload.equals("leakstorm") ? 5_000_000L : 10_000_000L;
    }

    /** One run: its time, operations, checksum and the blocks the kext still held. */
    record Result(long workNanos, long ops, long checksum, long leaked) {
    }

    static Result run(String workload, long n, boolean touchAll) {
        Kernel kernel = Kernel.boot(KernelConfig.defaults());
        LoadedKext kext = kernel.kextload(PeerWorkloadKext.class, LoadOptions.defaults().withLeakPolicy(LeakPolicy.FAIL));
        PeerWorkloads workloads = kext.service(PeerWorkloads.class);
        long start = System.nanoTime();
        long checksum = switch (workload) {
            case "pairs" -> workloads.pairs(n, touchAll);
            case "churn" -> workloads.churn(n, touchAll);
            case "leakstorm" -> workloads.leakstorm(n, touchAll);
            default -> throw new IllegalArgumentException("unknown workload '" + workload + "' (pairs, churn, leakstorm)");
        };
        long work = System.nanoTime() - start;
        long ops = workloads.operations();
        LedgerSnapshot held = kernel.snapshot().kext(kext.loadTag());
        long expected = workload.equals("leakstorm") ? n : 1000;
        if (kernel.panicked() || held.count() != expected || !kernel.ledger().findings().isEmpty()) {
            throw new IllegalStateException("broken run: panicked=" + kernel.panicked() + ", held=" + held.count()
                    + " (expected " + expected + "), findings=" + kernel.ledger().findings());
        }
        try {
            kernel.kextunload(kext);
            throw new IllegalStateException("the leak was not reported");
        } catch (KextLeakError expectedLeak) {
            // the verdict LSan prints at exit: outside the timed work
        }
        return new Result(work, ops, checksum, held.count());
    }

    private static double median(double[] sorted) {
        int m = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    private static String loadAverage() {
        try {
            return Arrays.stream(new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/loadavg")))
                    .split(" ")).limit(1).findFirst().orElse("?");
        } catch (java.io.IOException | RuntimeException e) {
            return "?";
        }
    }
}
