package dev.kextharness.kernel;

import dev.kextharness.kernel.kext.LeakPolicy;

import java.util.Objects;

/**
 * How to boot a simulated kernel: the Mac it runs on and how strict it is. Immutable; each
 * {@code with...} returns a new configuration, so a base configuration can be shared and varied.
 *
 * <p>Stability: stable.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public final class KernelConfig {
    private static final KernelConfig DEFAULTS = new KernelConfig(32L << 30, 0, 95, LeakPolicy.PANIC, true, 0L,
            "19H2", "Darwin Kernel Version 19.6.0: Sun Jul  5 00:43:10 PDT 2020; root:xnu-6153.141.1~9/RELEASE_X86_64",
            "MacBookPro16,1 (Mac-E1008331FDC96864)", "", 8);

    private final long physicalMemory;
    private final long zoneMapSize;
    private final int jetsamLimitPercent;
    private final LeakPolicy leakPolicy;
    private final boolean findings;
    private final long bootSeed;
    private final String osVersion;
    private final String kernelVersion;
    private final String systemModel;
    private final String bootArgs;
    private final int cpus;

    private KernelConfig(long physicalMemory, long zoneMapSize, int jetsamLimitPercent, LeakPolicy leakPolicy,
                         boolean findings, long bootSeed, String osVersion, String kernelVersion, String systemModel,
                         String bootArgs, int cpus) {
        this.physicalMemory = physicalMemory;
        this.zoneMapSize = zoneMapSize;
        this.jetsamLimitPercent = jetsamLimitPercent;
        this.leakPolicy = leakPolicy;
        this.findings = findings;
        this.bootSeed = bootSeed;
        this.osVersion = osVersion;
        this.kernelVersion = kernelVersion;
        this.systemModel = systemModel;
        this.bootArgs = bootArgs;
        this.cpus = cpus;
    }

    /** A 32 GiB Catalina 10.15.6 Mac (the source article's), panic on leaks, harness findings on. */
    public static KernelConfig defaults() {
        return DEFAULTS;
    }

    /** Simulated physical memory; the zone map and kalloc_map are sized from it as XNU does. */
    public KernelConfig withPhysicalMemory(long bytes) {
        if (bytes < (256L << 20)) {
            throw new IllegalArgumentException("physical memory of " + bytes + " bytes is too small: "
                    + "give at least 256 MiB (XNU needs a 115 MiB zone map)");
        }
        return new KernelConfig(bytes, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, bootSeed, osVersion,
                kernelVersion, systemModel, bootArgs, cpus);
    }

    /**
     * The {@code zsize} boot-arg: a fixed zone map size in bytes (0 = derive from RAM). At boot it
     * is page-rounded and clamped as XNU clamps it: at least 115 MiB ({@code CONFIG_ZONE_MAP_MIN}),
     * at most half the physical memory, and at most 64 GiB.
     */
    public KernelConfig withZoneMapSize(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("zone map size must be 0 (derive from RAM) or positive, not " + bytes);
        }
        return new KernelConfig(physicalMemory, bytes, jetsamLimitPercent, leakPolicy, findings, bootSeed, osVersion,
                kernelVersion, systemModel, bootArgs, cpus);
    }

    /** The {@code zone_map_jetsam_limit} boot-arg, 1..100 percent (default 95). */
    public KernelConfig withJetsamLimitPercent(int percent) {
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("zone_map_jetsam_limit must be 1..100 percent, not " + percent);
        }
        return new KernelConfig(physicalMemory, zoneMapSize, percent, leakPolicy, findings, bootSeed, osVersion,
                kernelVersion, systemModel, bootArgs, cpus);
    }

    /** What an unload with outstanding allocations does. */
    public KernelConfig withLeakPolicy(LeakPolicy policy) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, Objects.requireNonNull(policy), findings,
                bootSeed, osVersion, kernelVersion, systemModel, bootArgs, cpus);
    }

    /**
     * Whether to report harness findings: misuse that XNU accepts silently (cross-family frees,
     * same-bucket size mismatches). Off gives XNU's silence.
     */
    public KernelConfig withFindings(boolean enabled) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, enabled, bootSeed,
                osVersion, kernelVersion, systemModel, bootArgs, cpus);
    }

    /** Seed for what XNU randomises per boot (poison cookies). Same seed, same kernel. */
    public KernelConfig withBootSeed(long seed) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, seed, osVersion,
                kernelVersion, systemModel, bootArgs, cpus);
    }

    /** The boot-args string printed in panic logs. */
    public KernelConfig withBootArgs(String args) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, bootSeed,
                osVersion, kernelVersion, systemModel, Objects.requireNonNull(args), cpus);
    }

    /**
     * The number of simulated CPUs (default 8, a MacBookPro16,1's logical CPUs): each has its own
     * zcache magazines and ledger counters, and a calling thread runs on one for each allocation.
     * More threads than CPUs take turns.
     */
    public KernelConfig withCpus(int count) {
        if (count < 1 || count > dev.kextharness.kernel.cpu.Cpus.MAX_CPUS) {
            throw new IllegalArgumentException("cpus must be 1.." + dev.kextharness.kernel.cpu.Cpus.MAX_CPUS
                    + " (MAX_CPUS on x86_64), not " + count);
        }
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, bootSeed,
                osVersion, kernelVersion, systemModel, bootArgs, count);
    }

    public long physicalMemory() {
        return physicalMemory;
    }

    public long zoneMapSize() {
        return zoneMapSize;
    }

    public int jetsamLimitPercent() {
        return jetsamLimitPercent;
    }

    public LeakPolicy leakPolicy() {
        return leakPolicy;
    }

    public boolean findings() {
        return findings;
    }

    public long bootSeed() {
        return bootSeed;
    }

    public String osVersion() {
        return osVersion;
    }

    public String kernelVersion() {
        return kernelVersion;
    }

    public String systemModel() {
        return systemModel;
    }

    public String bootArgs() {
        return bootArgs;
    }

    public int cpus() {
        return cpus;
    }
}
