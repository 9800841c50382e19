package dev.kextharness.junit;

import org.apiguardian.api.API;

/**
 * The JUnit Platform configuration parameters the Kext Harness reads (in
 * {@code junit-platform.properties}, as system properties, or given to the launcher). An unknown
 * {@code kextharness.*} key is an error, not a silent default. {@link KextTest}'s attributes and
 * the {@link KextHarnessExtension#builder() builder} beat them.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class ConfigurationKeys {
    /** Every key starts with this. */
    public static final String PREFIX = "kextharness.";
    /** What an unload with allocations outstanding does: {@code panic}, {@code fail} (the default) or {@code xnu}. */
    public static final String LEAK_POLICY = PREFIX + "leakPolicy";
    /** Simulated physical memory: a size such as {@code 8G}, {@code 512M} or {@code 1073741824}, at least 256M. */
    public static final String PHYSICAL_MEMORY = PREFIX + "physicalMemory";
    /** Whether harness findings count against a kext: {@code true} (the default) or {@code false}. */
    public static final String FINDINGS = PREFIX + "findings";
    /**
     * A suppressions file (see {@code dev.kextharness.kernel.ledger.Suppressions}): a path, relative
     * to the working directory, or a resource on the test class path.
     */
    public static final String SUPPRESSIONS = PREFIX + "suppressions";

    private ConfigurationKeys() {
    }
}
