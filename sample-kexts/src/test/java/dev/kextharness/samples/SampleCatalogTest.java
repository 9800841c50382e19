package dev.kextharness.samples;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.kext.KextVerdictError;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every sample of the catalog, as the demo and {@code load} run it: booted with the kernel's
 * defaults, loaded, exercised, unloaded. Each kext must end in the outcome the catalog declares,
 * and each twin must unload clean, so a sample added later cannot drift from what the tour says.
 */
class SampleCatalogTest {

    static Stream<Named<Sample>> samples() {
        return SampleCatalog.all().stream().map(sample -> Named.of(sample.name(), sample));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void theKextEndsInItsDeclaredOutcome(Sample sample) {
        assertThat(run(sample, sample.kext())).isEqualTo(sample.expected());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void theTwinUnloadsClean(Sample sample) {
        try (Kernel kernel = Kernel.boot()) {
            LoadedKext twin = kernel.kextload(sample.twin());
            sample.exercise().run(kernel, twin);
            kernel.kextunload(twin);

            assertThat(kernel.panicked()).isFalse();
            assertThat(kernel.leakReport(twin).isClean()).as(kernel.leakReport(twin).render()).isTrue();
            assertThat(kernel.snapshot().kext(twin.loadTag()).isEmpty()).isTrue();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("samples")
    void theEntryIsComplete(Sample sample) {
        assertThat(sample.name()).matches("[a-z][a-z0-9-]*");
        assertThat(sample.title()).isNotBlank();
        assertThat(sample.rule()).as("one sentence").endsWith(".").doesNotContain("\n");
        assertThat(sample.kext()).isNotEqualTo(sample.twin());
        assertThat(sample.expected()).as("the kext breaks a rule").isNotEqualTo(Sample.Outcome.CLEAN);
        assertThat(sample.exercise()).isNotNull();
        assertThat(bundleOf(sample.kext())).isNotNull();
        assertThat(bundleOf(sample.twin())).isNotNull();
        assertThat(SampleCatalog.find(sample.name())).containsSame(sample);
    }

    @Test
    void namesAreUniqueAndUnknownNamesAreNotFound() {
        Set<String> names = new HashSet<>();
        SampleCatalog.all().forEach(sample -> assertThat(names.add(sample.name())).as(sample.name()).isTrue());
        assertThat(SampleCatalog.find("no-such-sample")).isEmpty();
    }

    /** Load, exercise, unload on a default kernel, and classify the verdict as {@link Sample.Outcome} says. */
    private static Sample.Outcome run(Sample sample, Class<? extends Kext> kextClass) {
        try (Kernel kernel = Kernel.boot()) {
            LoadedKext kext;
            try {
                kext = kernel.kextload(kextClass);
                sample.exercise().run(kernel, kext);
                kernel.kextunload(kext);
            } catch (KernelPanic panic) {
                return panic.panicString().startsWith("KEXT FINDINGS: ") ? Sample.Outcome.FINDING : Sample.Outcome.PANIC;
            } catch (KextVerdictError verdict) {
                return verdict instanceof KextLeakError ? Sample.Outcome.LEAK : Sample.Outcome.FINDING;
            }
            LeakReport report = kernel.leakReport(kext);
            return report.hasLeaks() ? Sample.Outcome.LEAK
                    : report.isClean() ? Sample.Outcome.CLEAN : Sample.Outcome.FINDING;
        }
    }

    private static KextBundle bundleOf(Class<? extends Kext> kextClass) {
        return kextClass.getAnnotation(KextBundle.class);
    }
}
