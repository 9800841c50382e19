package dev.kextharness.cli;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.LeakPolicy;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The options every command that boots a kernel shares: the simulated Mac and how strict the
 * kernel is. A picocli mixin: a command adds {@code @Mixin KernelOptions kernel;} and boots with
 * {@link #boot()}.
 */
public final class KernelOptions {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(names = "--ram", paramLabel = "<size>", converter = ByteSize.class, defaultValue = "32G",
            description = "Physical memory of the simulated Mac (default: 32G, the source article's Mac). The zone "
                    + "map and kalloc_map are sized from it, as XNU does.")
    long ram;

    @Option(names = "--zsize", paramLabel = "<size>", converter = ByteSize.class, defaultValue = "0",
            description = "The zsize boot-arg: a fixed zone map size (default: derived from --ram).")
    long zoneMapSize;

    @Option(names = "--jetsam-limit", paramLabel = "<percent>", defaultValue = "95",
            description = "The zone_map_jetsam_limit boot-arg, 1..100 (default: ${DEFAULT-VALUE}).")
    int jetsamLimitPercent;

    @Option(names = "--leak-policy", paramLabel = "panic|fail|xnu", defaultValue = "panic",
            converter = LeakPolicyConverter.class,
            description = "What a kext unloading with allocations outstanding does: panic the kernel (default, "
                    + "stricter than XNU), fail with a leak report (stricter than XNU), or xnu: unload silently and "
                    + "leave the memory in its zone, as XNU does.")
    LeakPolicy leakPolicy;

    @Option(names = "--no-findings", negatable = false,
            description = "Stay silent, as XNU does, about misuse XNU accepts (a kfree with another size of the same "
                    + "bucket, a free by another allocator family).")
    boolean noFindings;

    @Option(names = "--boot-seed", paramLabel = "<n>", defaultValue = "0",
            description = "Seed of what XNU randomises per boot (poison cookies); same seed, same output.")
    long bootSeed;

    @Option(names = "--watchdog", paramLabel = "<time>", converter = WatchdogConverter.class, defaultValue = "5s",
            description = "Stop a kext whose start, stop or service call runs longer than this (such as 500ms, 5s, "
                    + "2m; 0 or off for no limit), and panic with the kext's stack (default: ${DEFAULT-VALUE}; XNU "
                    + "has no such watchdog and would wait for ever).")
    Duration watchdog;

    /** The kernel configuration these options describe; a bad value is a usage error. */
    public KernelConfig config() {
        try {
            return KernelConfig.defaults()
                    .withPhysicalMemory(ram)
                    .withZoneMapSize(zoneMapSize)
                    .withJetsamLimitPercent(jetsamLimitPercent)
                    .withLeakPolicy(leakPolicy)
                    .withFindings(!noFindings)
                    .withBootSeed(bootSeed)
                    .withWatchdog(watchdog);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), e.getMessage());
        }
    }

    /** Boots a kernel configured by these options. */
    public Kernel boot() {
        return Kernel.boot(config());
    }

    public LeakPolicy leakPolicy() {
        return leakPolicy;
    }

    /** False with --no-findings: the kernel stays silent about misuse XNU accepts. */
    public boolean findings() {
        return !noFindings;
    }

    /** A time with its unit: {@code 500ms}, {@code 5s}, {@code 2m}; {@code 0} or {@code off} for none. */
    static final class WatchdogConverter implements ITypeConverter<Duration> {
        private static final Pattern TIME = Pattern.compile("(\\d{1,9})\\s*(ms|s|m)", Pattern.CASE_INSENSITIVE);

        @Override
        public Duration convert(String value) {
            String v = value.strip();
            if (v.equals("0") || v.equalsIgnoreCase("off")) {
                return Duration.ZERO;
            }
            Matcher m = TIME.matcher(v);
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a watchdog limit: give a time with its unit, "
                        + "such as 500ms, 5s or 2m, or 0 (or off) for none");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2).toLowerCase(Locale.ROOT)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }
    }

    /** {@code panic}, {@code fail} or {@code xnu}, in any case. */
    static final class LeakPolicyConverter implements ITypeConverter<LeakPolicy> {
        @Override
        public LeakPolicy convert(String value) {
            for (LeakPolicy policy : LeakPolicy.values()) {
                if (policy.name().equalsIgnoreCase(value.strip())) {
                    return policy;
                }
            }
            throw new TypeConversionException("'" + value + "' is not a leak policy: "
                    + "give panic, fail or xnu");
        }
    }
}
