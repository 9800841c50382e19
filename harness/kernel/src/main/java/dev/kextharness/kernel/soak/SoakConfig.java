package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kalloc.Kalloc;

import java.util.Arrays;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a soak runs: the simulated Mac (its RAM, hence its zone map, and the jetsam limit), how
 * fast the kext is driven on the simulated clock, which kalloc zone its records go to, and when
 * to stop. Immutable; each {@code with...} returns a new configuration.
 *
 * <p>Stability: stable.
 */
public final class SoakConfig {
    /**
     * Requests per simulated second by default: the source article's kalloc.48 held 136,341,530
     * elements after 1,238,233 s of uptime, about 110 a second.
     */
    public static final double DEFAULT_RATE = 110;
    /** Chart points kept at most by default. */
    public static final int DEFAULT_MAX_SAMPLES = 2000;

    private static final SoakConfig DEFAULTS = new SoakConfig(KernelConfig.defaults(), DEFAULT_RATE, 0, Until.panic(),
            DEFAULT_MAX_SAMPLES, true);

    private final KernelConfig kernel;
    private final double rate;
    private final int recordSize;
    private final Until until;
    private final int maxSamples;
    private final boolean background;

    private SoakConfig(KernelConfig kernel, double rate, int recordSize, Until until, int maxSamples,
                       boolean background) {
        this.kernel = kernel;
        this.rate = rate;
        this.recordSize = recordSize;
        this.until = until;
        this.maxSamples = maxSamples;
        this.background = background;
    }

    /** The source article's Mac: 32 GiB (a 12 GiB zone map), jetsam limit 95 %; 110 requests/s until the panic. */
    public static SoakConfig defaults() {
        return DEFAULTS;
    }

    /** The simulated Mac: its RAM (hence its zone map), jetsam limit, boot seed. */
    public SoakConfig withKernel(KernelConfig kernel) {
        return new SoakConfig(Objects.requireNonNull(kernel), rate, recordSize, until, maxSamples, background);
    }

    /** Simulated RAM in bytes: at least 256 MiB (the zone map is 37.5 % of it, at least 115 MiB). */
    public SoakConfig withPhysicalMemory(long bytes) {
        return withKernel(kernel.withPhysicalMemory(bytes));
    }

    /** {@code zone_map_jetsam_limit}: 1..100 percent of the zone map. */
    public SoakConfig withJetsamLimitPercent(int percent) {
        return withKernel(kernel.withJetsamLimitPercent(percent));
    }

    /** Requests per simulated second. */
    public SoakConfig withRate(double requestsPerSecond) {
        if (!(requestsPerSecond >= 0.001 && requestsPerSecond <= 1e9)) {
            throw new IllegalArgumentException("--rate must be between 0.001 and 1e9 requests per simulated second, not "
                    + requestsPerSecond);
        }
        return new SoakConfig(kernel, requestsPerSecond, recordSize, until, maxSamples,
                background);
    }

    /**
     * The kalloc zone the kext's records should land in, such as {@code kalloc.48}: its element
     * size is passed to the kext's start routine as its {@code data}.
     */
    public SoakConfig withLeakZone(String zone) {
        Objects.requireNonNull(zone, "zone");
        for (int bucket : Kalloc.BUCKETS) {
            if (zone.equals("kalloc." + bucket)) {
                return new SoakConfig(kernel, rate, bucket, until, maxSamples, background);
            }
        }
        throw new IllegalArgumentException("--zone must be one of the kalloc zones ("
                + Arrays.stream(Kalloc.BUCKETS).mapToObj(b -> "kalloc." + b).collect(Collectors.joining(", "))
                + "), not '" + zone + "'");
    }

    public SoakConfig withUntil(Until until) {
        return new SoakConfig(kernel, rate, recordSize, Objects.requireNonNull(until),
                maxSamples, background);
    }

    /** Chart points kept at most (at least 16): older points are thinned as the run goes on. */
    public SoakConfig withMaxSamples(int max) {
        if (max < 16 || max > 1_000_000) {
            throw new IllegalArgumentException("--max-points must be 16..1000000, not " + max);
        }
        return new SoakConfig(kernel, rate, recordSize, until, max, background);
    }

    /** Whether the ordinary zone use of a running Mac is simulated alongside the kext (default on). */
    public SoakConfig withBackground(boolean enabled) {
        return new SoakConfig(kernel, rate, recordSize, until, maxSamples, enabled);
    }

    public KernelConfig kernel() {
        return kernel;
    }

    public double rate() {
        return rate;
    }

    /** The record size given to the kext's start routine, or 0 for the kext's own choice. */
    public int recordSize() {
        return recordSize;
    }

    public Until until() {
        return until;
    }

    public int maxSamples() {
        return maxSamples;
    }

    public boolean background() {
        return background;
    }
}
