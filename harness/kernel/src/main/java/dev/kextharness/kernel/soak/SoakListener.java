package dev.kextharness.kernel.soak;

/**
 * Told what a soak does as it runs: each line of its log as it is written, and progress now and
 * then (a few hundred times a run). Both default to doing nothing.
 *
 * <p>Stability: stable.
 */
public interface SoakListener {
    SoakListener NONE = new SoakListener() {
    };

    /** A line of the timeline, as it happens. */
    default void line(TimelineLine line) {
    }

    /**
     * How far the run is towards its end, 0..1: the zone map's fill for a run until the panic,
     * the kext's allocations for a run until a count.
     */
    default void progress(double fraction, long uptimeNanos, long zoneMapSize) {
    }
}
