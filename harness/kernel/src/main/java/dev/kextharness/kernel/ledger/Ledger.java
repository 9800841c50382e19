package dev.kextharness.kernel.ledger;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The allocation ledger's counters: the table of call sites and, per site, its live allocations
 * and bytes. Which block belongs to which site is kept by the allocators themselves, next to the
 * block (a zone element's slot, a vm map entry), so counting here costs two array increments.
 * Counts are exact: never sampled, never left to the garbage collector.
 */
public final class Ledger {
    private CallSite[] sites = new CallSite[64];
    private byte[] family = new byte[64];
    private int[] loadTag = new int[64];
    private long[] liveCount = new long[64];
    private long[] liveBytes = new long[64];
    private long[] totalCount = new long[64];
    private int siteCount;

    private final List<Finding> findings = new ArrayList<>();
    private boolean findingsEnabled;
    private boolean counting = true;

    public Ledger(boolean findingsEnabled) {
        this.findingsEnabled = findingsEnabled;
    }

    /** Adds a site of {@code function}, which allocates from or frees to {@code f}, and returns its id. */
    public int register(int tag, String bundleId, String function, Family f, String className, String methodName,
                        String fileName, int line) {
        if (siteCount == sites.length) {
            int n = siteCount * 2;
            sites = Arrays.copyOf(sites, n);
            family = Arrays.copyOf(family, n);
            loadTag = Arrays.copyOf(loadTag, n);
            liveCount = Arrays.copyOf(liveCount, n);
            liveBytes = Arrays.copyOf(liveBytes, n);
            totalCount = Arrays.copyOf(totalCount, n);
        }
        int id = siteCount++;
        sites[id] = new CallSite(id, tag, bundleId, function, f, className, methodName, fileName, line);
        family[id] = (byte) f.ordinal();
        loadTag[id] = tag;
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

    /** Records a new live allocation of {@code requested} bytes made at {@code site}. */
    public void allocated(int site, long requested) {
        if (counting) {
            liveCount[site]++;
            liveBytes[site] += requested;
            totalCount[site]++;
        }
    }

    /** Records that a live allocation made at {@code site} was freed. */
    public void freed(int site, long requested) {
        if (counting) {
            liveCount[site]--;
            liveBytes[site] -= requested;
        }
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
        return liveCount[site];
    }

    public long liveBytes(int site) {
        return liveBytes[site];
    }

    /** Allocations made at the site over the kernel's life. */
    public long totalCount(int site) {
        return totalCount[site];
    }

    /** Live allocations made by the kext with this load tag. */
    public long liveCountOfKext(int tag) {
        long n = 0;
        for (int i = 0; i < siteCount; i++) {
            if (loadTag[i] == tag) {
                n += liveCount[i];
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
        return List.copyOf(findings);
    }

    /** Findings whose site belongs to the kext with this load tag. */
    public List<Finding> findingsOfKext(int tag) {
        List<Finding> out = new ArrayList<>();
        for (Finding f : findings) {
            if (f.site() != null && f.site().loadTag() == tag) {
                out.add(f);
            }
        }
        return out;
    }
}
