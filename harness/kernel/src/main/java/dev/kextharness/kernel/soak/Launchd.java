package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.jetsam.Memorystatus;
import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.Family;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * launchd relaunching the daemons jetsam kills, and what each relaunch costs the zone map: the
 * soak's model of the source article's last 25 minutes, in which the zone map's last 5 % (about
 * 600 MB) went while kalloc.48 grew by only 42 MB.
 *
 * <p>A killed KeepAlive job is started again with a new pid, in its band: at once if it ran for
 * at least launchd's default ThrottleInterval ({@link #THROTTLE_INTERVAL_NANOS}), else when that
 * much time has passed since it was spawned (launchd's "Service only ran for N seconds. Pushing
 * respawn out by M seconds."). Its start-up then refills the kernel
 * caches it had warmed before (the files it reads and maps): over {@link #WARMUP_NANOS} it takes
 * kernel memory in proportion to its footprint, scaled by the Mac's RAM as XNU scales its caches
 * ({@code desiredvnodes}, {@code nbuf}) with {@code max_mem}: its footprint on the article's 32 GiB
 * Mac, a sixteenth of it on a 2 GiB one. Those caches belong to the kernel, not to the process,
 * so killing it again does not give them back. Each kill thus starts a refill that brings the next
 * kill: a relaunch storm that eats the map's last 5 % in minutes, where the leak alone takes days.
 *
 * <p>The harness's reading, not XNU's code: the article's log does not say which zones took the
 * 600 MB. The caches are kalloc.12288 buffers ({@link #CACHE_BUCKET}), the zone the article's panic
 * was growing, so the zone that fails at the end is the one growing fastest in chunks of three
 * pages. The constants are set so that the 32 GiB replay's storm lasts about as long as the
 * article's; the model's shape (a kill every 1/256 of the map's growth, a refill per relaunch)
 * is the same at every size.
 */
final class Launchd {
    /** launchd's default {@code ThrottleInterval}: a job is not spawned more than once every 10 s. */
    static final long THROTTLE_INTERVAL_NANOS = 10_000_000_000L;
    /** How long a relaunched daemon takes to refill its caches. */
    static final long WARMUP_NANOS = 180_000_000_000L;
    /** The kalloc bucket of the caches a relaunch refills. */
    static final int CACHE_BUCKET = 12288;
    /** The Mac whose relaunches cost their whole footprint: the source article's. */
    private static final long REFERENCE_RAM = 32L << 30;
    /** How often a warming daemon's allocations are brought up to date: once a simulated second. */
    private static final long REFILL_NANOS = 1_000_000_000L;
    /** Jobs launchd keeps alive: the daemons and agents of the boot list (not launchd, WindowServer, loginwindow or Safari). */
    static final Set<String> KEEP_ALIVE = Set.of("photoanalysisd", "lsd", "cloudd", "mds_stores", "Dock", "Finder");
    /** The first pid launchd hands to a relaunched job (the boot list's pids are below it). */
    private static final int FIRST_RELAUNCH_PID = 600;

    private record Pending(long dueNanos, Memorystatus.Proc killed) {
    }

    /** A relaunched daemon refilling its caches. */
    private static final class Warmup {
        final int pid;
        final long startNanos;
        final long totalBytes;
        long allocatedBytes;

        Warmup(int pid, long startNanos, long totalBytes) {
            this.pid = pid;
            this.startNanos = startNanos;
            this.totalBytes = totalBytes;
        }
    }

    private final Kernel kernel;
    private final Kalloc kalloc;
    private final int cacheSite;
    private final long cacheBucketBytes;
    private final double refillPerFootprintByte;
    private final List<Pending> pending = new ArrayList<>();
    private final List<Warmup> warming = new ArrayList<>();
    private final List<Relaunch> relaunches = new ArrayList<>();
    /** When each relaunched process was spawned; the boot processes were spawned at boot (uptime 0). */
    private final Map<Integer, Long> spawnedAt = new HashMap<>();
    private long cacheBytes;
    private int nextPid = FIRST_RELAUNCH_PID;
    private long nextWake = Long.MAX_VALUE;

    Launchd(Kernel kernel, long physicalMemory) {
        this.kernel = kernel;
        this.kalloc = kernel.kalloc();
        this.cacheSite = kernel.kernelSite(Family.KALLOC, "kalloc", "caches refilled by a relaunched daemon");
        this.cacheBucketBytes = kalloc.zoneFor(CACHE_BUCKET).elemSize();
        this.refillPerFootprintByte = (double) physicalMemory / REFERENCE_RAM;
    }

    /** Told of each jetsam kill (from inside the allocation that brought it: nothing is allocated here). */
    void killed(Memorystatus.Proc victim, long uptimeNanos) {
        if (KEEP_ALIVE.contains(victim.name())) {
            long ran = uptimeNanos - spawnedAt.getOrDefault(victim.pid(), 0L);
            long due = uptimeNanos + Math.max(0, THROTTLE_INTERVAL_NANOS - ran);
            pending.add(new Pending(due, victim));
            nextWake = Math.min(nextWake, due);
        }
    }

    /** Relaunches the jobs that are due and lets the warming ones allocate; cheap when nothing is due. */
    void advanceTo(long uptimeNanos) {
        if (uptimeNanos < nextWake) {
            return;
        }
        // Allocating below can bring a kill, which adds to pending: iterate over what is due now.
        List<Pending> due = new ArrayList<>();
        pending.removeIf(p -> p.dueNanos <= uptimeNanos && due.add(p));
        for (Pending p : due) {
            relaunch(p.killed, uptimeNanos);
        }
        for (Warmup w : List.copyOf(warming)) {
            refill(w, uptimeNanos);
        }
        warming.removeIf(w -> w.allocatedBytes >= w.totalBytes || kernel.processKernelBytes(w.pid) == 0);
        nextWake = warming.isEmpty() ? Long.MAX_VALUE : uptimeNanos + REFILL_NANOS;
        for (Pending p : pending) {
            nextWake = Math.min(nextWake, p.dueNanos);
        }
    }

    private void relaunch(Memorystatus.Proc killed, long uptimeNanos) {
        Memorystatus.Proc proc = new Memorystatus.Proc(nextPid++, killed.name(), killed.priority(), killed.footprintBytes());
        kernel.spawn(proc);
        spawnedAt.put(proc.pid(), uptimeNanos);
        long refill = (long) (proc.footprintBytes() * refillPerFootprintByte);
        relaunches.add(new Relaunch(uptimeNanos, killed.pid(), proc.pid(), proc.name(), refill));
        warming.add(new Warmup(proc.pid(), uptimeNanos, refill));
    }

    /** Brings a warming daemon's caches to their share of its refill at this time; a killed daemon stops. */
    private void refill(Warmup w, long uptimeNanos) {
        double done = Math.min(1, (double) (uptimeNanos - w.startNanos) / WARMUP_NANOS);
        long target = (long) (w.totalBytes * done);
        while (w.allocatedBytes < target && kernel.processKernelBytes(w.pid) > 0) {
            kalloc.kalloc(CACHE_BUCKET, true, cacheSite);
            w.allocatedBytes += cacheBucketBytes;
            cacheBytes += cacheBucketBytes;
        }
    }

    /** The relaunches so far, oldest first. */
    List<Relaunch> relaunches() {
        return List.copyOf(relaunches);
    }

    /** Bytes of cache the relaunched daemons have refilled so far (live: the caches are never freed). */
    long cacheBytes() {
        return cacheBytes;
    }
}
