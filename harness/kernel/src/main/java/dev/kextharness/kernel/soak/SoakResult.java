package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.panic.KernelPanic;

import java.util.List;

/**
 * What a soak did: why it stopped, the kernel as it was left (panicked or not), its log lines,
 * the processes jetsam killed and the sampled zone sizes.
 *
 * @param reason           why the run ended
 * @param message          one sentence saying so
 * @param kernel           the kernel the soak ran in
 * @param panic            the panic, if the kernel panicked
 * @param leakZone         the zone the kext's records went to (by its first request)
 * @param requests         requests handed to the kext
 * @param kextAllocations  allocations the kext made
 * @param kextLive         allocations of the kext still live at the end
 * @param zoneMapCapacity  the zone map's capacity in bytes
 * @param jetsamLimitBytes the zone map size past which the GC thread runs jetsam
 * @param timeline         the log: kernel lines and jetsam reports, oldest first
 * @param kills            the processes killed, in order
 * @param relaunches       the killed daemons launchd started again, in order
 * @param relaunchCacheBytes the kalloc memory the relaunched daemons' cache refills took
 * @param samples          the chart's points, evenly spread over the whole run
 * @param closeUpSamples   finer points from the moment the zone map first reached the jetsam limit
 *                         to the end (none if it never did): the jetsam storm, for the chart's close-up
 *
 * <p>Stability: stable.
 */
public record SoakResult(
        StopReason reason,
        String message,
        Kernel kernel,
        KernelPanic panic,
        String leakZone,
        long requests,
        long kextAllocations,
        long kextLive,
        long zoneMapCapacity,
        long jetsamLimitBytes,
        List<TimelineLine> timeline,
        List<JetsamKill> kills,
        List<Relaunch> relaunches,
        long relaunchCacheBytes,
        SoakSamples samples,
        SoakSamples closeUpSamples) {

    /** Why a soak ended. */
    public enum StopReason {
        /** The kernel panicked (the zone map ran out, or another panic). */
        PANIC,
        /** The {@code --until} condition was met. */
        UNTIL,
        /** The kext stopped holding more memory, so the map would never run out. */
        STALLED,
        /** The kext's request method threw. */
        KEXT_FAILED
    }

    /** Simulated uptime at the end, in nanoseconds. */
    public long uptimeNanos() {
        return kernel.uptimeNanos();
    }
}
