package dev.kextharness.junit;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.ledger.Suppressions;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Objects;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How to boot one test's kernel. Each value is either set or left to a weaker source; sources
 * are layered strongest last with {@link #overriddenBy}: configuration parameters, then
 * {@code @KextTest} on the class, then on the method, then the {@code @RegisterExtension} builder.
 * Immutable.
 */
final class HarnessSettings {
    static final String PREFIX = ConfigurationKeys.PREFIX;
    static final String LEAK_POLICY = ConfigurationKeys.LEAK_POLICY;
    static final String PHYSICAL_MEMORY = ConfigurationKeys.PHYSICAL_MEMORY;
    static final String FINDINGS = ConfigurationKeys.FINDINGS;
    static final String SUPPRESSIONS = ConfigurationKeys.SUPPRESSIONS;

    /** Every key the harness reads, with what it accepts, for error messages. */
    private static final Map<String, String> KEYS = new LinkedHashMap<>();

    static {
        KEYS.put(LEAK_POLICY, "panic|fail|xnu");
        KEYS.put(PHYSICAL_MEMORY, "a size such as 8G, 512M or 1073741824, at least 256M");
        KEYS.put(FINDINGS, "true|false");
        KEYS.put(SUPPRESSIONS, "a suppressions file: a path, or a resource on the test class path");
    }

    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMGT]?)(?:i?B)?", Pattern.CASE_INSENSITIVE);

    static final HarnessSettings NONE = new HarnessSettings(null, null, null, null);

    private final LeakPolicy leakPolicy;
    private final Long physicalMemory;
    private final Boolean findings;
    private final String suppressions;

    HarnessSettings(LeakPolicy leakPolicy, Long physicalMemory, Boolean findings, String suppressions) {
        this.leakPolicy = leakPolicy;
        this.physicalMemory = physicalMemory;
        this.findings = findings;
        this.suppressions = suppressions;
    }

    /** These settings, with every value that {@code stronger} sets taken from it instead. */
    HarnessSettings overriddenBy(HarnessSettings stronger) {
        return new HarnessSettings(
                stronger.leakPolicy != null ? stronger.leakPolicy : leakPolicy,
                stronger.physicalMemory != null ? stronger.physicalMemory : physicalMemory,
                stronger.findings != null ? stronger.findings : findings,
                stronger.suppressions != null ? stronger.suppressions : suppressions);
    }

    /**
     * The suppressions file read: a path, else a resource on the test class path; none if no
     * source names one. A missing or malformed file is a configuration error naming it.
     */
    Suppressions suppressions() {
        if (suppressions == null || suppressions.isBlank()) {
            return Suppressions.none();
        }
        try {
            Path file = Path.of(suppressions);
            if (Files.isRegularFile(file)) {
                return Suppressions.read(file);
            }
            ClassLoader loader = Objects.requireNonNullElse(Thread.currentThread().getContextClassLoader(),
                    HarnessSettings.class.getClassLoader());
            URL resource = loader.getResource(suppressions.startsWith("/") ? suppressions.substring(1) : suppressions);
            if (resource == null) {
                throw new ExtensionConfigurationException("Suppressions file '" + suppressions + "' (" + SUPPRESSIONS
                        + ") not found: it is neither a file under " + Path.of("").toAbsolutePath()
                        + " nor a resource on the test class path; give a path or put it in src/test/resources");
            }
            try (InputStream in = resource.openStream()) {
                return Suppressions.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource.toString());
            }
        } catch (IllegalArgumentException e) { // a malformed file, or a path the file system refuses
            throw new ExtensionConfigurationException("Invalid suppressions file for " + SUPPRESSIONS + ": "
                    + e.getMessage(), e);
        } catch (IOException e) {
            throw new ExtensionConfigurationException("Cannot read the suppressions file '" + suppressions + "': "
                    + e.getMessage(), e);
        }
    }

    /** The policy in effect: a test fails on a leak unless something says otherwise. */
    LeakPolicy leakPolicy() {
        return leakPolicy != null ? leakPolicy : LeakPolicy.FAIL;
    }

    KernelConfig kernelConfig() {
        KernelConfig config = KernelConfig.defaults().withLeakPolicy(leakPolicy());
        if (physicalMemory != null) {
            config = config.withPhysicalMemory(physicalMemory);
        }
        if (findings != null) {
            config = config.withFindings(findings);
        }
        return config;
    }

    /**
     * Reads the configuration parameters. {@code visibleKeys} are the keys that can be enumerated
     * (the launcher's test plan, system properties, junit-platform.properties): a
     * {@code kextharness.*} key among them that the harness does not know is a typo, and an error
     * rather than a silent default.
     */
    static HarnessSettings fromConfiguration(Function<String, Optional<String>> lookup, Collection<String> visibleKeys) {
        for (String key : visibleKeys) {
            if (key.startsWith(PREFIX) && !KEYS.containsKey(key)) {
                throw new ExtensionConfigurationException("Unknown configuration parameter " + key + "="
                        + lookup.apply(key).orElse("") + ": the Kext Harness reads only " + describeKeys());
            }
        }
        return new HarnessSettings(
                lookup.apply(LEAK_POLICY).map(v -> parseLeakPolicy(LEAK_POLICY, v)).orElse(null),
                lookup.apply(PHYSICAL_MEMORY).map(v -> parsePhysicalMemory(PHYSICAL_MEMORY, v)).orElse(null),
                lookup.apply(FINDINGS).map(v -> parseFindings(FINDINGS, v)).orElse(null),
                lookup.apply(SUPPRESSIONS).map(String::strip).orElse(null));
    }

    /** The attributes of one {@code @KextTest}; {@code where} names it in errors. */
    static HarnessSettings fromAnnotation(KextTest test, String where) {
        if (test.leakPolicy().length > 1 || test.findings().length > 1) {
            throw new ExtensionConfigurationException("@KextTest on " + where
                    + " gives more than one leakPolicy or findings value: give at most one of each");
        }
        return new HarnessSettings(
                test.leakPolicy().length == 1 ? test.leakPolicy()[0] : null,
                test.physicalMemory().isBlank() ? null
                        : parsePhysicalMemory("@KextTest(physicalMemory) on " + where, test.physicalMemory()),
                test.findings().length == 1 ? test.findings()[0] : null,
                test.suppressions().isBlank() ? null : test.suppressions().strip());
    }

    static LeakPolicy parseLeakPolicy(String source, String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        for (LeakPolicy policy : LeakPolicy.values()) {
            if (policy.name().toLowerCase(Locale.ROOT).equals(v)) {
                return policy;
            }
        }
        throw invalid(source, value, KEYS.get(LEAK_POLICY), null);
    }

    static boolean parseFindings(String source, String value) {
        String v = value.strip().toLowerCase(Locale.ROOT);
        if (v.equals("true") || v.equals("false")) {
            return Boolean.parseBoolean(v);
        }
        throw invalid(source, value, KEYS.get(FINDINGS), null);
    }

    /** A byte count with an optional binary unit: 8G is 8 GiB. Checked against what the kernel boots with. */
    static long parsePhysicalMemory(String source, String value) {
        Matcher m = SIZE.matcher(value.strip());
        if (!m.matches()) {
            throw invalid(source, value, KEYS.get(PHYSICAL_MEMORY), null);
        }
        int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            case "T" -> 40;
            default -> 0;
        };
        long number;
        try {
            number = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw invalid(source, value, KEYS.get(PHYSICAL_MEMORY), "the number is too large");
        }
        if (number > (Long.MAX_VALUE >> shift)) {
            throw invalid(source, value, KEYS.get(PHYSICAL_MEMORY), "the size is too large");
        }
        long bytes = number << shift;
        try {
            KernelConfig.defaults().withPhysicalMemory(bytes);
        } catch (IllegalArgumentException e) {
            throw invalid(source, value, KEYS.get(PHYSICAL_MEMORY), e.getMessage());
        }
        return bytes;
    }

    private static ExtensionConfigurationException invalid(String source, String value, String allowed, String why) {
        return new ExtensionConfigurationException("Invalid value for " + source + ": '" + value + "'"
                + (why == null ? "" : " (" + why + ")") + "; allowed: " + allowed);
    }

    private static String describeKeys() {
        StringBuilder sb = new StringBuilder();
        KEYS.forEach((key, allowed) -> sb.append(sb.length() == 0 ? "" : ", ").append(key).append(" (").append(allowed)
                .append(')'));
        return sb.toString();
    }
}
