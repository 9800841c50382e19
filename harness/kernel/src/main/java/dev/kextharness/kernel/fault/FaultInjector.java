package dev.kextharness.kernel.fault;

import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.log.KernelLog;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Fault injection for one kernel, modelled on Linux's {@code fail-nth}: while a {@link FaultPlan}
 * is armed, every KPI function its declaration says can fail ({@code @Kpi(failable = true)}: the
 * allocators {@code _MALLOC}, {@code _MALLOC_ZONE}, {@code kalloc}, the {@code OSMalloc} calls and
 * {@code OSMalloc_Tagalloc}, the {@code IOMalloc} family) asks {@link #shouldFail} before it
 * allocates, through the guard the linker puts in front of each such call site; the n-th allocation the
 * plan selects then returns NULL (0) without allocating, once, and the kernel log says so. Every
 * selected allocation is counted with its call site, so a test can ask how many allocation points
 * a run went through and fail each in turn.
 *
 * <p>Where this is stricter than XNU: an injected failure makes any allocation return NULL,
 * including blocking ones that XNU never fails for a size it can satisfy ({@code M_WAITOK}
 * {@code _MALLOC}, {@code kalloc}, {@code OSMalloc}, {@code IOMalloc}: they wait for memory), and
 * {@code _MALLOC(..., M_WAITOK)} without {@code M_NULL}, which XNU would turn into the panic
 * {@code "_MALLOC: kalloc returned NULL (potential leak), size %llu"}. The failed call returns
 * before the allocator checks its arguments. As Linux's fail-nth does for sleeping allocations,
 * this tests the error path a kext author wrote for the NULL that the KPI's contract allows.
 *
 * <p>Safe for many threads: armed, the counting runs under this object's lock, so the n-th
 * allocation is the n-th across all threads. Unarmed, {@link #shouldFail} is one field
 * test. Stability: experimental.
 */
public final class FaultInjector {
    private final Ledger ledger;
    private final KernelLog log;

    private volatile FaultPlan plan;
    private int[] points = new int[16];
    private int count;
    private int injectedSite = -1;
    private volatile FaultPlan.Phase phase = FaultPlan.Phase.RUNNING;

    public FaultInjector(Ledger ledger, KernelLog log) {
        this.ledger = ledger;
        this.log = log;
    }

    /** Starts counting (and failing) under this plan, from zero. */
    public synchronized void arm(FaultPlan plan) {
        this.plan = java.util.Objects.requireNonNull(plan, "plan");
        this.count = 0;
        this.injectedSite = -1;
    }

    /** Stops counting; what was counted stays readable. */
    public synchronized void disarm() {
        this.plan = null;
    }

    /**
     * The kernel enters a phase of a kext's life ({@link FaultPlan.Phase#START} in kextload,
     * {@link FaultPlan.Phase#STOP} in kextunload); returns the phase it leaves, to restore after.
     */
    public FaultPlan.Phase enter(FaultPlan.Phase next) {
        FaultPlan.Phase left = phase;
        phase = next;
        return left;
    }

    /** The plan armed now, or null. */
    public FaultPlan plan() {
        return plan;
    }

    /**
     * Called by an allocating KPI entry point before it allocates at {@code site}: counts the
     * allocation if the plan selects it, and returns true if it is the one to fail. The caller
     * then returns its failure value (NULL) without allocating.
     */
    public boolean shouldFail(int site) {
        if (plan == null) {
            return false;
        }
        return countAndDecide(site);
    }

    private synchronized boolean countAndDecide(int site) {
        FaultPlan plan = this.plan;
        if (plan == null) {
            return false;
        }
        CallSite callSite = ledger.site(site);
        if (!plan.selects(callSite, phase)) {
            return false;
        }
        if (count == points.length) {
            points = Arrays.copyOf(points, count * 2);
        }
        points[count++] = site;
        if (count != plan.nth()) {
            return false;
        }
        injectedSite = site;
        log.printf("FAULT_INJECTION: forcing a failure of " + callSite.function() + " at " + callSite.location()
                + ": allocation " + count + " of " + callSite.bundleId() + " (" + plan.describe() + ") returns NULL. "
                + "Stricter than XNU, whose blocking allocators wait for memory rather than fail, and whose "
                + "_MALLOC(M_WAITOK) without M_NULL panics instead.");
        return true;
    }

    /** How many selected allocations were made since the plan was armed. */
    public synchronized int count() {
        return count;
    }

    /** How many of those allocations the kext with this bundle identifier made. */
    public synchronized int countOf(String bundleId) {
        int n = 0;
        for (int i = 0; i < count; i++) {
            if (ledger.site(points[i]).bundleId().equals(bundleId)) {
                n++;
            }
        }
        return n;
    }

    /** The call site of each selected allocation, in order: the n-th allocation is at index n - 1. */
    public synchronized List<CallSite> sites() {
        List<CallSite> sites = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            sites.add(ledger.site(points[i]));
        }
        return sites;
    }

    /** Whether the planned failure has been injected. */
    public synchronized boolean injected() {
        return injectedSite >= 0;
    }

    /** The call site whose allocation was failed, or null if none was. */
    public synchronized CallSite injectedSite() {
        return injectedSite < 0 ? null : ledger.site(injectedSite);
    }
}
