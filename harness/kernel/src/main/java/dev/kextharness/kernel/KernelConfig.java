package dev.kextharness.kernel;

import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.vm.AddressSpace;

import java.time.Duration;
import java.util.Objects;

/**
 * How to boot a simulated kernel: the Mac it runs on and how strict it is. Immutable; each
 * {@code with...} returns a new configuration, so a base configuration can be shared and varied.
 *
 * <p>Stability: stable.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public final class KernelConfig {
    /** How long a kext's start, stop or service call may run before the watchdog stops it. */
    public static final Duration DEFAULT_WATCHDOG = Duration.ofSeconds(5);
    private static final KernelConfig DEFAULTS = new KernelConfig(32L << 30, 0, 95, LeakPolicy.PANIC, true, 0L,
            "19H2", "Darwin Kernel Version 19.6.0: Sun Jul  5 00:43:10 PDT 2020; root:xnu-6153.141.1~9/RELEASE_X86_64",
            "MacBookPro16,1 (Mac-E1008331FDC96864)", "", 8, DEFAULT_WATCHDOG);

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
    private final Duration watchdog;

    private KernelConfig(long physicalMemory, long zoneMapSize, int jetsamLimitPercent, LeakPolicy leakPolicy,
                         boolean findings, long bootSeed, String osVersion, String kernelVersion, String systemModel,
                         String bootArgs, int cpus, Duration watchdog) {
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
        this.watchdog = watchdog;
    }

    /** A 32 GiB Catalina 10.15.6 Mac (the source article's), panic on leaks, harness findings on. */
    public static KernelConfig defaults() {
        return DEFAULTS;
    }

    /**
     * Simulated physical memory; the zone map and kalloc_map are sized from it as XNU does. A Mac
     * has from {@link AddressSpace#MIN_PHYSICAL_MEMORY} (256 MiB, with the {@code maxmem}
     * boot-arg) to {@link AddressSpace#MAX_PHYSICAL_MEMORY} (1.5 TiB, xnu-6153's
     * {@code K64_MAXMEM} and the largest Mac Pro's RAM).
     *
     * @throws IllegalArgumentException outside that range, in one line saying the range
     */
    public KernelConfig withPhysicalMemory(long bytes) {
        if (bytes < AddressSpace.MIN_PHYSICAL_MEMORY) {
            throw new IllegalArgumentException("physical memory of " + describe(bytes) + " is too small: give at least "
                    + "256 MiB (XNU needs a 115 MiB zone map; Macs that run Catalina have 4 GiB or more, and the "
                    + "maxmem boot-arg boots them with less)");
        }
        if (bytes > AddressSpace.MAX_PHYSICAL_MEMORY) {
            throw new IllegalArgumentException("physical memory of " + describe(bytes) + " is more than a Mac can have: "
                    + "give at most 1.5 TiB (1536G; xnu-6153 uses no more, K64_MAXMEM, and the largest Mac Pro has "
                    + "that much)");
        }
        return new KernelConfig(bytes, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, bootSeed, osVersion,
                kernelVersion, systemModel, bootArgs, cpus, watchdog);
    }

    /** A byte count as a user wrote it: whole TiB, GiB, MiB or KiB where it is one, else bytes. */
    private static String describe(long bytes) {
        String[] units = {"TiB", "GiB", "MiB", "KiB"};
        for (int i = 0; i < units.length; i++) {
            int shift = 40 - 10 * i;
            if (bytes > 0 && bytes % (1L << shift) == 0) {
                return (bytes >> shift) + " " + units[i];
            }
        }
        return bytes + " bytes";
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
                kernelVersion, systemModel, bootArgs, cpus, watchdog);
    }

    /** The {@code zone_map_jetsam_limit} boot-arg, 1..100 percent (default 95). */
    public KernelConfig withJetsamLimitPercent(int percent) {
        if (percent < 1 || percent > 100) {
            throw new IllegalArgumentException("zone_map_jetsam_limit must be 1..100 percent, not " + percent);
        }
        return new KernelConfig(physicalMemory, zoneMapSize, percent, leakPolicy, findings, bootSeed, osVersion,
                kernelVersion, systemModel, bootArgs, cpus, watchdog);
    }

    /** What an unload with outstanding allocations does. */
    public KernelConfig withLeakPolicy(LeakPolicy policy) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, Objects.requireNonNull(policy), findings,
                bootSeed, osVersion, kernelVersion, systemModel, bootArgs, cpus, watchdog);
    }

    /**
     * Whether to report harness findings: misuse that XNU accepts silently (cross-family frees,
     * same-bucket size mismatches). Off gives XNU's silence.
     */
    public KernelConfig withFindings(boolean enabled) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, enabled, bootSeed,
                osVersion, kernelVersion, systemModel, bootArgs, cpus, watchdog);
    }

    /** Seed for what XNU randomises per boot (poison cookies). Same seed, same kernel. */
    public KernelConfig withBootSeed(long seed) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, seed, osVersion,
                kernelVersion, systemModel, bootArgs, cpus, watchdog);
    }

    /** The boot-args string printed in panic logs. */
    public KernelConfig withBootArgs(String args) {
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, bootSeed,
                osVersion, kernelVersion, systemModel, Objects.requireNonNull(args), cpus, watchdog);
    }

    /**
     * The kext watchdog: a kext's start routine, stop routine or service call that runs longer than
     * {@code limit} is stopped where it stands and the kernel panics, with the kext's stack. XNU
     * has no such watchdog (kextload would wait for ever); {@link Duration#ZERO} turns it off, as
     * it is. Default {@link #DEFAULT_WATCHDOG}.
     */
    public KernelConfig withWatchdog(Duration limit) {
        Objects.requireNonNull(limit, "limit");
        if (limit.isNegative()) {
            throw new IllegalArgumentException("the watchdog limit must be 0 (off) or positive, not " + limit);
        }
        return new KernelConfig(physicalMemory, zoneMapSize, jetsamLimitPercent, leakPolicy, findings, bootSeed,
                osVersion, kernelVersion, systemModel, bootArgs, cpus, limit);
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
                osVersion, kernelVersion, systemModel, bootArgs, count, watchdog);
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

    /** The kext watchdog's limit; {@link Duration#ZERO} when it is off. */
    public Duration watchdog() {
        return watchdog;
    }
}
