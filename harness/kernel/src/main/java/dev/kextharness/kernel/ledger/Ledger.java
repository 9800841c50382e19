package dev.kextharness.kernel.ledger;

import dev.kextharness.kernel.cpu.Cpus;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The allocation ledger's counters: the table of call sites and, per site, its live allocations
 * and bytes. Which block belongs to which site is kept by the allocators themselves, next to the
 * block (a zone element's slot, a vm map entry), so counting here costs two array increments.
 * Counts are exact: never sampled, never left to the garbage collector.
 *
 * <p>Many threads count at once: each simulated CPU has its own row of counters, written only by
 * the thread that holds that CPU ({@link Cpus}), with plain stores and no lock; a total is the sum
 * of the rows. Rows grow in blocks of {@value #BLOCK} sites, and a block never moves once made, so
 * a site registered while other CPUs count loses no update. Totals read while other threads
 * allocate are a moment's view; read after those threads finish (joined, or past a latch), exact.
 */
public final class Ledger {
    /** Sites per block of counters. */
    static final int BLOCK = 256;
    /** Counters per site: live count, live bytes, total count. */
    private static final int PER_SITE = 3;

    private volatile CallSite[] sites = new CallSite[64];
    private volatile byte[] family = new byte[64];
    private volatile int[] loadTag = new int[64];
    private volatile int siteCount;
    /** Per CPU, blocks of {@link #BLOCK} sites' counters. */
    private final CpuRow[] rows;
    private final Cpus cpus;

    private final List<Finding> findings = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile boolean findingsEnabled;
    private volatile boolean counting = true;

    /** One CPU's counters. */
    private static final class CpuRow {
        volatile long[][] blocks = new long[0][];
    }

    /** A ledger for a kernel of one CPU (tests of the ledger alone). */
    public Ledger(boolean findingsEnabled) {
        this(findingsEnabled, new Cpus(1));
    }

    public Ledger(boolean findingsEnabled, Cpus cpus) {
        this.findingsEnabled = findingsEnabled;
        this.cpus = cpus;
        this.rows = new CpuRow[cpus.count()];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = new CpuRow();
        }
    }

    /** Adds a site of {@code function}, which allocates from or frees to {@code f}, and returns its id. */
    public synchronized int register(int tag, String bundleId, String function, Family f, String className,
                                     String methodName, String fileName, int line) {
        int id = siteCount;
        if (id == sites.length) {
            int n = id * 2;
            family = Arrays.copyOf(family, n);
            loadTag = Arrays.copyOf(loadTag, n);
            sites = Arrays.copyOf(sites, n);
        }
        if (id % BLOCK == 0) {
            for (CpuRow row : rows) {
                long[][] blocks = Arrays.copyOf(row.blocks, id / BLOCK + 1);
                blocks[id / BLOCK] = new long[BLOCK * PER_SITE];
                row.blocks = blocks;
            }
        }
        family[id] = (byte) f.ordinal();
        loadTag[id] = tag;
        sites[id] = new CallSite(id, tag, bundleId, function, f, className, methodName, fileName, line);
        siteCount = id + 1;
        return id;
    }

    public CallSite site(int id) {
        return sites[id];
    }

    public int siteCount() {
        return siteCount;
    }

    public Family family(int site) {
        return Family.values()[family[site]];
    }

    public int loadTag(int site) {
        return loadTag[site];
    }

    /** Records a new live allocation of {@code requested} bytes made at {@code site}, on a CPU the caller holds. */
    public void allocated(int cpu, int site, long requested) {
        if (counting) {
            long[] block = rows[cpu].blocks[site / BLOCK];
            int at = (site % BLOCK) * PER_SITE;
            block[at]++;
            block[at + 1] += requested;
            block[at + 2]++;
        }
    }

    /** Records that a live allocation made at {@code site} was freed, on a CPU the caller holds. */
    public void freed(int cpu, int site, long requested) {
        if (counting) {
            long[] block = rows[cpu].blocks[site / BLOCK];
            int at = (site % BLOCK) * PER_SITE;
            block[at]--;
            block[at + 1] -= requested;
        }
    }

    /** Records a new live allocation from a path that holds no CPU (large blocks): takes one for the update. */
    public void allocated(int site, long requested) {
        Cpus.Cpu cpu = cpus.acquire();
        try {
            allocated(cpu.id(), site, requested);
        } finally {
            cpus.release(cpu);
        }
    }

    /** Records a free from a path that holds no CPU (large blocks): takes one for the update. */
    public void freed(int site, long requested) {
        Cpus.Cpu cpu = cpus.acquire();
        try {
            freed(cpu.id(), site, requested);
        } finally {
            cpus.release(cpu);
        }
    }

    private long sum(int site, int counter) {
        long total = 0;
        int b = site / BLOCK;
        int at = (site % BLOCK) * PER_SITE + counter;
        for (CpuRow row : rows) {
            total += row.blocks[b][at];
        }
        return total;
    }

    /**
     * Stops the per-site counting for good, and the findings with it: the untracked baseline the
     * benchmarks compare tracking against. The allocators still record each block's call site (it
     * shares the slot of the free-list link), so snapshots and leak verdicts still work, by walking
     * the live blocks; the per-site counters keep the values they had.
     */
    public void stopCounting() {
        counting = false;
        findingsEnabled = false;
    }

    /** Whether the per-site counters are kept (true unless {@link #stopCounting()} was called). */
    public boolean counting() {
        return counting;
    }

    public long liveCount(int site) {
        return sum(site, 0);
    }

    public long liveBytes(int site) {
        return sum(site, 1);
    }

    /** Allocations made at the site over the kernel's life. */
    public long totalCount(int site) {
        return sum(site, 2);
    }

    /** Live allocations made by the kext with this load tag. */
    public long liveCountOfKext(int tag) {
        long n = 0;
        int count = siteCount;
        int[] tags = loadTag;
        for (int i = 0; i < count; i++) {
            if (tags[i] == tag) {
                n += liveCount(i);
            }
        }
        return n;
    }

    /** True if the two sites allocate or free in the same family. */
    public boolean sameFamily(int allocSite, int freeSite) {
        return family[allocSite] == family[freeSite];
    }

    public boolean findingsEnabled() {
        return findingsEnabled;
    }

    public void setFindingsEnabled(boolean enabled) {
        this.findingsEnabled = enabled;
    }

    /** Records a finding, if findings are on. */
    public void report(Finding finding) {
        if (findingsEnabled) {
            findings.add(finding);
        }
    }

    public List<Finding> findings() {
        synchronized (findings) {
            return List.copyOf(findings);
        }
    }

    /** Findings whose site belongs to the kext with this load tag. */
    public List<Finding> findingsOfKext(int tag) {
        List<Finding> out = new ArrayList<>();
        for (Finding f : findings()) {
            if (f.site() != null && f.site().loadTag() == tag) {
                out.add(f);
            }
        }
        return out;
    }
}
