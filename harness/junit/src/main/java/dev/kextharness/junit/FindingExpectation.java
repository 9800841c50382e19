package dev.kextharness.junit;

import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kpi.Kext;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.util.Collection;

/** One {@link ExpectFinding}, checked when the test starts and matched against the findings of the unloads. */
final class FindingExpectation {
    private final String description;
    private final Finding.Kind kind;
    private final String bundleId;
    private final SitePattern site;
    private final long count;

    private FindingExpectation(String description, Finding.Kind kind, String bundleId, SitePattern site, long count) {
        this.description = description;
        this.kind = kind;
        this.bundleId = bundleId;
        this.site = site;
        this.count = count;
    }

    static FindingExpectation of(ExpectFinding annotation) {
        StringBuilder d = new StringBuilder("@ExpectFinding(kind = ").append(annotation.kind());
        if (!annotation.site().isBlank()) {
            d.append(", site = \"").append(annotation.site()).append('"');
        }
        if (annotation.kext() != Kext.class) {
            d.append(", kext = ").append(annotation.kext().getSimpleName()).append(".class");
        }
        if (annotation.count() != ExpectFinding.ANY) {
            d.append(", count = ").append(annotation.count());
        }
        String description = d.append(')').toString();
        if (annotation.count() < ExpectFinding.ANY || annotation.count() == 0) {
            throw new ExtensionConfigurationException(description + ": count must be at least 1 (or "
                    + "ExpectFinding.ANY); to expect no finding, leave the annotation out");
        }
        String bundleId = annotation.kext() == Kext.class ? null : KextHarnessExtension.bundleId(annotation.kext());
        return new FindingExpectation(description, annotation.kind(), bundleId,
                SitePattern.parse(annotation.site(), description), annotation.count());
    }

    /** Whether this expectation selects a finding of the kext with this bundle identifier. */
    boolean selects(String kextBundleId, Finding finding) {
        return finding.kind() == kind && (bundleId == null || bundleId.equals(kextBundleId))
                && (site == SitePattern.ANY || site.matches(finding.site()));
    }

    /** Null if the reports hold the findings expected, else what went wrong, with the findings there were. */
    String mismatch(Collection<LeakReport> reports) {
        long found = reports.stream().mapToLong(r -> r.findings().stream().filter(f -> selects(r.bundleId(), f)).count())
                .sum();
        if (count == ExpectFinding.ANY ? found > 0 : found == count) {
            return null;
        }
        StringBuilder sb = new StringBuilder(description).append(": expected ")
                .append(count == ExpectFinding.ANY ? "at least 1 finding" : count + " finding" + (count == 1 ? "" : "s"))
                .append(" at unload, but found ").append(found);
        if (reports.stream().allMatch(r -> r.findings().isEmpty())) {
            return sb.append("; no kext broke a pairing rule (are findings turned off?)").toString();
        }
        sb.append(". The findings there were:");
        for (LeakReport r : reports) {
            for (Finding f : r.findings()) {
                sb.append("\n  ").append(f.kind()).append(" in ").append(r.bundleId()).append(": ").append(f.message());
                if (f.site() != null) {
                    sb.append("\n    at ").append(f.site().location());
                }
            }
        }
        return sb.toString();
    }
}
