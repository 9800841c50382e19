package dev.kextharness.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** {@link ThreadsBenchmark}'s workload does what it claims: two threads through one kext, nothing left behind. */
class ThreadsWorkloadTest {
    @Test
    void twoThreadsRunThePairsKextOnOneKernelAndItUnloadsClean() throws Exception {
        ThreadsBenchmark.SharedKernel shared = new ThreadsBenchmark.SharedKernel();
        shared.load();
        ThreadsBenchmark benchmark = new ThreadsBenchmark();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?>[] runs = new Future<?>[2];
            for (int i = 0; i < 2; i++) {
                ThreadsBenchmark.Seed seed = new ThreadsBenchmark.Seed();
                seed.pick();
                runs[i] = pool.submit(() -> {
                    go.await();
                    for (int call = 0; call < 3; call++) {
                        benchmark.twoThreads(shared, seed);
                    }
                    return null;
                });
            }
            go.countDown();
            for (Future<?> run : runs) {
                run.get();
            }
        } finally {
            pool.shutdownNow();
        }
        long pairs = 0;
        for (int site = 0; site < shared.kernel.ledger().siteCount(); site++) {
            if (shared.kernel.ledger().loadTag(site) == shared.kext.loadTag()) {
                pairs += shared.kernel.ledger().totalCount(site);
                assertThat(shared.kernel.ledger().liveCount(site)).isZero();
            }
        }
        assertThat(pairs).isEqualTo(2L * 3 * (ThreadsBenchmark.PAIRS + 64));
        shared.check(); // unloads, and throws unless the verdict is clean
    }
}
