package dev.kextharness.kernel.zcache;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.ipc.Ipc;
import dev.kextharness.kernel.ipc.Task;
import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.report.ZoneRow;
import dev.kextharness.kernel.sysctl.SysctlTree;
import dev.kextharness.kernel.zalloc.Zone;
import dev.kextharness.kpi.MachPort;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Eight threads on one kernel, each doing a long random sequence of operations over every
 * allocator family (kalloc/kfree small and large, _MALLOC/_FREE, OSMalloc/OSFree on its own tag
 * and a shared one, IOMalloc/IOFree), Mach ports and sysctl reads, on call sites of its own and on
 * sites all threads share. Each block carries its owner's stamp, checked at the free: a block
 * handed to two threads would show. Afterwards every counter is reconciled with what the threads
 * did: the ledger per site and per family, the zones (in use = live + cached), zprint's rows,
 * ioalloccount, kalloc's large-block count, the port census. Then the threads free everything at
 * once and every count returns to where it started. Bounded: {@code -Dstress.ops=N} per thread
 * (default 60000, 480 thousand operations in all).
 */
class ManyThreadsStressTest {
    private static final int THREADS = 8;
    private static final int OPS = Integer.getInteger("stress.ops", 60_000);
    private static final int KINDS = 4; // kalloc, _MALLOC, OSMalloc, IOMalloc

    /** A live block as its owner remembers it. */
    private record Block(long addr, long size, int kind, int site, long tag, long stamp) {
    }

    /** What one thread did, for the reconciliation. */
    private static final class Model {
        final List<Block> live = new ArrayList<>();
        final Map<Integer, long[]> perSite = new HashMap<>(); // live count, live bytes, total count
        final List<Integer> ports = new ArrayList<>();
        long ops;

        void allocated(int site, long size) {
            long[] c = perSite.computeIfAbsent(site, k -> new long[3]);
            c[0]++;
            c[1] += size;
            c[2]++;
        }

        void freed(int site, long size) {
            long[] c = perSite.computeIfAbsent(site, k -> new long[3]);
            c[0]--;
            c[1] -= size;
        }
    }

    @Test
    void eightThreadsKeepEveryCounterExact() throws Exception {
        Kernel kernel = Kernel.boot(KernelConfig.defaults());
        Ledger ledger = kernel.ledger();
        int[][] sharedSites = new int[KINDS][2]; // [kind] -> {alloc site, free site}
        String[][] functions = {{"kalloc", "kfree"}, {"_MALLOC", "_FREE"}, {"OSMalloc", "OSFree"}, {"IOMalloc", "IOFree"}};
        Family[] familyOf = {Family.KALLOC, Family.MALLOC, Family.OSMALLOC, Family.IOMALLOC};
        for (int k = 0; k < KINDS; k++) {
            sharedSites[k][0] = ledger.register(1, "com.example.stress", functions[k][0], familyOf[k], "Stress", "shared", "Stress.java", 1);
            sharedSites[k][1] = ledger.register(1, "com.example.stress", functions[k][1], familyOf[k], "Stress", "shared", "Stress.java", 2);
        }
        int tagSite = ledger.register(1, "com.example.stress", "OSMalloc_Tagalloc", Family.OSMALLOC_TAG, "Stress", "tag", "Stress.java", 3);
        long sharedTag = kernel.osmalloc().tagalloc("stress.shared", 0, tagSite);
        long iomallocBefore = kernel.iokit().iomallocAllocation();
        long largeBefore = kernel.kalloc().largeInuse();

        Model[] models = new Model[THREADS];
        int[][][] ownSites = new int[THREADS][KINDS][2];
        long[] ownTags = new long[THREADS];
        Task[] tasks = new Task[THREADS];
        for (int i = 0; i < THREADS; i++) {
            models[i] = new Model();
            for (int k = 0; k < KINDS; k++) {
                ownSites[i][k][0] = ledger.register(1, "com.example.stress", functions[k][0], familyOf[k], "Stress", "t" + i, "Stress.java", 10 + i);
                ownSites[i][k][1] = ledger.register(1, "com.example.stress", functions[k][1], familyOf[k], "Stress", "t" + i, "Stress.java", 20 + i);
            }
            ownTags[i] = kernel.osmalloc().tagalloc("stress.t" + i, 0, tagSite);
            tasks[i] = kernel.ipc().spawn("stress" + i);
        }
        long tagsLive = ledger.liveCount(tagSite);
        Map<String, Long> zonesBefore = liveByZone(kernel);
        long portsBefore = kernel.ipc().livePorts();

        CyclicBarrier start = new CyclicBarrier(THREADS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> runs = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                int id = i;
                runs.add(pool.submit(() -> {
                    start.await();
                    run(kernel, id, models[id], ownSites[id], sharedSites, ownTags[id], sharedTag, tasks[id]);
                    return null;
                }));
            }
            for (Future<?> run : runs) {
                run.get();
            }
            assertThat(kernel.panicked()).isFalse();
            reconcile(kernel, models, zonesBefore, iomallocBefore, largeBefore, portsBefore);

            // Everything is freed by all threads at once, each its own.
            List<Future<?>> frees = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                int id = i;
                frees.add(pool.submit(() -> {
                    start.await();
                    for (int b = models[id].live.size() - 1; b >= 0; b--) {
                        free(kernel, models[id], b, ownSites[id], sharedSites);
                    }
                    for (int name : models[id].ports) {
                        assertThat(kernel.ipc().modRefs(tasks[id].space(), name, MachPort.MACH_PORT_RIGHT_RECEIVE, -1))
                                .isZero();
                    }
                    models[id].ports.clear();
                    return null;
                }));
            }
            for (Future<?> f : frees) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        reconcile(kernel, models, zonesBefore, iomallocBefore, largeBefore, portsBefore);
        for (int site = 0; site < ledger.siteCount(); site++) {
            if (ledger.site(site).loadTag() == 1 && site != tagSite) {
                assertThat(ledger.liveCount(site)).as("site %s", ledger.site(site)).isZero();
                assertThat(ledger.liveBytes(site)).as("site %s", ledger.site(site)).isZero();
            }
        }
        assertThat(ledger.liveCount(tagSite)).isEqualTo(tagsLive);
        assertThat(liveByZone(kernel)).isEqualTo(zonesBefore);
    }

    private static void run(Kernel kernel, int id, Model model, int[][] own, int[][] shared, long ownTag, long sharedTag,
                            Task task) {
        SplittableRandom random = new SplittableRandom(0x5EED + id);
        byte[] ostype = new byte[16];
        for (int op = 0; op < OPS; op++) {
            int choice = random.nextInt(100);
            if (choice < 2) {
                int[] name = new int[1];
                assertThat(kernel.ipc().allocate(task.space(), MachPort.MACH_PORT_RIGHT_RECEIVE, name)).isZero();
                model.ports.add(name[0]);
            } else if (choice < 4 && !model.ports.isEmpty()) {
                int name = model.ports.remove(random.nextInt(model.ports.size()));
                assertThat(kernel.ipc().modRefs(task.space(), name, MachPort.MACH_PORT_RIGHT_RECEIVE, -1)).isZero();
            } else if (choice < 5) {
                SysctlTree.Result r = kernel.sysctl(task, new int[]{1, 1}, 2, ostype, ostype.length, null, 0);
                assertThat(r.errno()).isZero();
                assertThat(new String(ostype, 0, (int) r.oldidx() - 1, StandardCharsets.UTF_8)).isEqualTo("Darwin");
            } else if (choice < 55 || model.live.isEmpty()) {
                allocate(kernel, id, model, random, own, shared, ownTag, sharedTag);
            } else {
                free(kernel, model, random.nextInt(model.live.size()), own, shared);
            }
            model.ops++;
        }
    }

    private static void allocate(Kernel kernel, int id, Model model, SplittableRandom random, int[][] own, int[][] shared,
                                 long ownTag, long sharedTag) {
        int kind = random.nextInt(KINDS);
        int site = random.nextBoolean() ? own[kind][0] : shared[kind][0];
        long size = random.nextInt(50) == 0 ? 16385 + random.nextInt(40000) : 1 + random.nextInt(random.nextBoolean() ? 128 : 8192);
        long tag = 0;
        long addr = switch (kind) {
            case 0 -> kernel.kalloc().kalloc(size, true, site);
            case 1 -> kernel.malloc().malloc(size, 80, 0, site);
            case 2 -> {
                tag = random.nextBoolean() ? ownTag : sharedTag;
                yield kernel.osmalloc().osmalloc((int) size, tag, true, site);
            }
            default -> kernel.iokit().ioMalloc(size, site);
        };
        assertThat(addr).as("%d bytes", size).isNotZero();
        long stamp = ((long) id << 48) | model.ops;
        kernel.memory().store(addr, 8, stamp);
        model.live.add(new Block(addr, size, kind, site, tag, stamp));
        model.allocated(site, size);
    }

    private static void free(Kernel kernel, Model model, int index, int[][] own, int[][] shared) {
        Block b = model.live.get(index);
        assertThat(kernel.memory().load(b.addr, 8)).as("block %#x still its owner's", b.addr).isEqualTo(b.stamp);
        int freeSite = (b.site == own[b.kind][0] ? own : shared)[b.kind][1];
        switch (b.kind) {
            case 0 -> kernel.kalloc().kfree(b.addr, b.size, freeSite);
            case 1 -> kernel.malloc().free(b.addr, 80, freeSite);
            case 2 -> kernel.osmalloc().osfree(b.addr, (int) b.size, b.tag, freeSite);
            default -> kernel.iokit().ioFree(b.addr, b.size, freeSite);
        }
        Block last = model.live.remove(model.live.size() - 1);
        if (index < model.live.size()) {
            model.live.set(index, last);
        }
        model.freed(b.site, b.size);
    }

    private static void reconcile(Kernel kernel, Model[] models, Map<String, Long> zonesBefore, long iomallocBefore,
                                  long largeBefore, long portsBefore) {
        Ledger ledger = kernel.ledger();
        Map<Integer, long[]> expected = new HashMap<>();
        Map<String, Long> zones = new HashMap<>(zonesBefore);
        long iomalloc = iomallocBefore;
        long large = largeBefore;
        long ports = portsBefore;
        long[] perKind = new long[KINDS];
        for (Model m : models) {
            m.perSite.forEach((site, c) -> {
                long[] e = expected.computeIfAbsent(site, k -> new long[3]);
                for (int i = 0; i < 3; i++) {
                    e[i] += c[i];
                }
            });
            for (Block b : m.live) {
                perKind[b.kind]++;
                if (b.size < Kalloc.KALLOC_MAX_PREROUNDED) {
                    zones.merge(kernel.kalloc().zoneFor(b.size).name(), 1L, Long::sum);
                } else {
                    large++; // every family's large blocks are kalloc's (kalloc_map or kernel_map)
                }
                if (b.kind == 3) {
                    iomalloc += b.size;
                }
            }
            ports += m.ports.size();
        }
        expected.forEach((site, e) -> {
            assertThat(ledger.liveCount(site)).as("live count of %s", ledger.site(site)).isEqualTo(e[0]);
            assertThat(ledger.liveBytes(site)).as("live bytes of %s", ledger.site(site)).isEqualTo(e[1]);
            assertThat(ledger.totalCount(site)).as("allocations at %s", ledger.site(site)).isEqualTo(e[2]);
        });
        String[] families = {"KALLOC", "MALLOC", "OSMALLOC", "IOMALLOC"};
        for (int k = 0; k < KINDS; k++) {
            long live = 0;
            for (var e : expected.entrySet()) {
                if (ledger.family(e.getKey()).name().equals(families[k])) {
                    live += ledger.liveCount(e.getKey());
                }
            }
            assertThat(live).as("live %s blocks", families[k]).isEqualTo(perKind[k]);
        }
        assertThat(liveByZone(kernel)).isEqualTo(zones);
        for (Zone zone : kernel.zalloc().zones()) {
            assertThat(zone.count()).as("%s in use", zone.name()).isEqualTo(zone.liveCount() + zone.cachedElements());
            assertThat(zone.curSize()).isGreaterThanOrEqualTo(zone.count() * zone.elemSize());
        }
        for (ZoneRow row : kernel.zoneRows()) {
            assertThat(row.count()).as("zprint %s", row.name()).isEqualTo(kernel.zalloc().zone(row.name()).count());
        }
        assertThat(kernel.iokit().iomallocAllocation()).isEqualTo(iomalloc);
        assertThat(kernel.kalloc().largeInuse()).isEqualTo(large);
        assertThat(kernel.ipc().livePorts()).isEqualTo(ports);
        assertThat(kernel.snapshot().count()).isEqualTo(kernel.snapshot().groups().stream().mapToLong(g -> g.count()).sum());
    }

    private static Map<String, Long> liveByZone(Kernel kernel) {
        Map<String, Long> live = new HashMap<>();
        for (Zone zone : kernel.zalloc().zones()) {
            live.put(zone.name(), zone.liveCount());
        }
        return live;
    }
}
