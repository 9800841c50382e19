package dev.kextharness.junit;

import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kpi.Kext;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;

/**
 * One {@link ExpectLeak}, checked when the test starts and then matched against the outstanding
 * allocations of the kexts the test unloaded.
 */
final class LeakExpectation {
    private final String description;
    private final String bundleId;
    private final Set<Family> families;
    private final long count;
    private final SitePattern site;

    private LeakExpectation(String description, String bundleId, Set<Family> families, long count, SitePattern site) {
        this.description = description;
        this.bundleId = bundleId;
        this.families = families;
        this.count = count;
        this.site = site;
    }

    /** Parses the annotation, or fails with a configuration error that says how to write it. */
    static LeakExpectation of(ExpectLeak annotation) {
        String description = describe(annotation);
        if (annotation.count() < ExpectLeak.ANY || annotation.count() == 0) {
            throw new ExtensionConfigurationException(description + ": count must be at least 1 (or ExpectLeak.ANY); "
                    + "to expect no leak, leave the annotation out");
        }
        String bundleId = annotation.kext() == Kext.class ? null : KextHarnessExtension.bundleId(annotation.kext());
        Set<Family> families = annotation.family().length == 0 ? Set.of()
                : Set.copyOf(EnumSet.copyOf(Arrays.asList(annotation.family())));
        return new LeakExpectation(description, bundleId, families, annotation.count(),
                SitePattern.parse(annotation.site(), description));
    }

    /** The outstanding allocations this expectation selects. */
    LedgerSnapshot select(LedgerSnapshot outstanding) {
        return outstanding.filter(group -> selects(group.site()));
    }

    boolean selects(CallSite site) {
        return (bundleId == null || bundleId.equals(site.bundleId()))
                && (families.isEmpty() || families.contains(site.family()))
                && this.site.matches(site);
    }

    /** Whether this expectation is about the kext with this bundle identifier (or any kext). */
    boolean names(String kextBundleId) {
        return bundleId == null || bundleId.equals(kextBundleId);
    }

    /** Null if {@code found} allocations are what was expected, else what went wrong. */
    String mismatch(long found, Collection<LeakReport> reports) {
        if (count == ExpectLeak.ANY ? found > 0 : found == count) {
            return null;
        }
        String expected = count == ExpectLeak.ANY ? "at least 1 allocation" : count + " allocation" + (count == 1 ? "" : "s");
        StringBuilder sb = new StringBuilder(description).append(": expected ").append(expected)
                .append(" outstanding at unload, but found ").append(found);
        boolean none = reports.stream().noneMatch(LeakReport::hasLeaks);
        if (none) {
            return sb.append("; no kext left anything behind").toString();
        }
        sb.append(". What the kexts left behind:");
        reports.stream().filter(LeakReport::hasLeaks).forEach(r -> sb.append('\n').append(r.render().stripTrailing()));
        return sb.toString();
    }

    String description() {
        return description;
    }

    private static String describe(ExpectLeak a) {
        StringBuilder sb = new StringBuilder("@ExpectLeak(");
        if (a.kext() != Kext.class) {
            sb.append("kext = ").append(a.kext().getSimpleName()).append(".class, ");
        }
        if (!a.site().isBlank()) {
            sb.append("site = \"").append(a.site()).append("\", ");
        }
        if (a.family().length == 1) {
            sb.append("family = ").append(a.family()[0]).append(", ");
        } else if (a.family().length > 1) {
            sb.append("family = ").append(Arrays.toString(a.family()).replace('[', '{').replace(']', '}')).append(", ");
        }
        if (a.count() != ExpectLeak.ANY) {
            sb.append("count = ").append(a.count()).append(", ");
        }
        if (sb.charAt(sb.length() - 1) == ' ') {
            sb.setLength(sb.length() - 2);
        }
        return sb.append(')').toString();
    }
}
