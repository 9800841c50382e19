package dev.kextharness.kernel.zcache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.kext.fixtures.Filter;
import dev.kextharness.kernel.kext.fixtures.FilterKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Ledger;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** A kext driven from eight threads at once keeps an exact ledger and a clean verdict when balanced. */
class KextFromManyThreadsTest {
    private static final int THREADS = 8;
    private static final int PACKETS = 2_500;
    private static final int ROUNDS = 1_000;

    @Test
    void eightThreadsThroughOneKextLeaveAnExactLedgerAndACleanVerdict() throws Exception {
        Kernel kernel = Kernel.boot();
        LoadedKext kext = kernel.kextload(FilterKext.class);
        Filter filter = kext.service(Filter.class);
        // Packets cross threads: producers allocate, the next thread's consumer frees.
        List<BlockingQueue<long[]>> queues = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            queues.add(new ArrayBlockingQueue<>(PACKETS));
        }
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS * 2);
        List<Future<Integer>> made = new ArrayList<>();
        List<Future<Integer>> consumed = new ArrayList<>();
        try {
            for (int i = 0; i < THREADS; i++) {
                int id = i;
                made.add(pool.submit(() -> {
                    go.await();
                    int n = filter.churn(id, ROUNDS);
                    for (int p = 0; p < PACKETS; p++) {
                        int size = 16 + (p % 7) * 100;
                        long mark = ((long) id << 32) | p;
                        queues.get((id + 1) % THREADS).put(new long[]{filter.inbound(size, mark), size, mark});
                    }
                    return n;
                }));
                consumed.add(pool.submit(() -> {
                    go.await();
                    int ok = 0;
                    for (int p = 0; p < PACKETS; p++) {
                        long[] packet = queues.get(id).take();
                        if (filter.release(packet[0], (int) packet[1]) == packet[2]) {
                            ok++;
                        }
                    }
                    return ok;
                }));
            }
            go.countDown();
            for (int i = 0; i < THREADS; i++) {
                assertThat(made.get(i).get()).isEqualTo(4 * ROUNDS);
                assertThat(consumed.get(i).get()).as("packets intact when released").isEqualTo(PACKETS);
            }
        } finally {
            pool.shutdownNow();
        }

        assertThat(kernel.panicked()).isFalse();
        assertThat(filter.packets()).as("OSIncrementAtomic64 from 8 threads").isEqualTo((long) THREADS * PACKETS);
        Ledger ledger = kernel.ledger();
        long allocations = 0;
        for (int site = 0; site < ledger.siteCount(); site++) {
            CallSite cs = ledger.site(site);
            if (cs.loadTag() != kext.loadTag()) {
                continue;
            }
            allocations += ledger.totalCount(site);
            boolean startsObjects = cs.methodName().equals("start");
            assertThat(ledger.liveCount(site)).as("live at %s", cs).isEqualTo(startsObjects ? 1 : 0);
        }
        // start's tag and counter, 4 per churn round, one per packet.
        assertThat(allocations).isEqualTo(2 + (long) THREADS * (4L * ROUNDS + PACKETS));
        kernel.kextunload(kext);
        assertThat(kernel.leakReport(kext).isClean()).isTrue();
        assertThat(ledger.liveCountOfKext(kext.loadTag())).isZero();
    }
}
