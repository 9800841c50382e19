package dev.kextharness.junit;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.kextharness.junit.fixtures.badkexts.RogueKext;
import dev.kextharness.junit.fixtures.kexts.BalancedKext;
import dev.kextharness.junit.fixtures.kexts.CarefulKext;
import dev.kextharness.junit.fixtures.rulekexts.bad.BadKexts;
import dev.kextharness.junit.fixtures.rulekexts.good.HelperKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.KextLoadException;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KextRulesTest {
    /** Kexts that load, and kexts that kextload refuses for one reason each. */
    private static final List<Class<? extends Kext>> GOOD = List.of(BalancedKext.class, CarefulKext.class,
            HelperKext.class);
    private static final List<Class<? extends Kext>> BAD = List.of(BadKexts.HelperExit.class,
            BadKexts.SharedState.class, BadKexts.Parallel.class, BadKexts.KernelReach.class, BadKexts.Console.class,
            BadKexts.Unbundled.class);

    @Test
    void kextRulesAndKextloadAgreeOnEveryKextWithTheSameWords() {
        List<Class<? extends Kext>> all = concat(GOOD, BAD);
        EvaluationResult rules = KextRules.ALL.evaluate(new ClassFileImporter().importClasses(all.toArray(new Class<?>[0])));
        List<String> details = rules.getFailureReport().getDetails();

        assertThat(details).as("one violation per kext that fails to load").hasSize(BAD.size());
        for (Class<? extends Kext> kext : all) {
            String loadFailure = loadFailure(kext);
            if (loadFailure == null) {
                assertThat(details).as(kext.getName() + " loads, so KextRules passes it")
                        .noneMatch(d -> d.contains(kext.getName()) || d.contains(bundleId(kext)));
            } else {
                assertThat(details).as(kext.getName() + " fails to load, so KextRules fails it with load's words")
                        .anyMatch(d -> d.contains(loadFailure));
            }
        }
    }

    @Test
    void checkByPackageAgreesWithKextloadWithoutArchUnit() {
        KextRules.check("dev.kextharness.junit.fixtures.rulekexts.good", "dev.kextharness.junit.fixtures.kexts");

        AssertionError e = (AssertionError) org.assertj.core.api.Assertions.catchThrowable(
                () -> KextRules.check("dev.kextharness.junit.fixtures.rulekexts.bad"));
        assertThat(e.getMessage()).startsWith(BAD.size() + " kext checks failed:");
        for (Class<? extends Kext> kext : BAD) {
            assertThat(e.getMessage()).contains(loadFailure(kext));
        }
    }

    @Test
    void checkByPackageNamesAMisspeltPackage() {
        assertThatThrownBy(() -> KextRules.check("com.example.nokexts"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("found no kext class")
                .hasMessageContaining("com.example.nokexts");
    }

    @Test
    void theFocusedRulesSplitTheLinksVerdict() {
        JavaClasses rogue = new ClassFileImporter().importClasses(RogueKext.class);

        assertThat(report(KextRules.KEXTS_ARE_BUNDLES.evaluate(rogue))).contains("it has no @KextBundle");
        assertThat(report(KextRules.KEXTS_USE_ONLY_THE_KPI.evaluate(rogue)))
                .contains("dev.kextharness.kernel.Kernel referenced from " + RogueKext.class.getName() + ".stop(")
                .contains("[kernel-private]");
        assertThat(report(KextRules.KEXTS_CREATE_NO_THREADS.evaluate(rogue))).contains("java.lang.Thread.<init>")
                .doesNotContain("kernel-private");
        assertThat(report(KextRules.KEXTS_USE_NO_REFLECTION.evaluate(rogue))).contains("java.lang.Class.getMethods()");
    }

    /** kextload's message for the kext, or null if it loads (and then unloads cleanly). */
    private static String loadFailure(Class<? extends Kext> kext) {
        Kernel kernel = Kernel.boot();
        try {
            LoadedKext loaded = kernel.kexts().load(kext);
            kernel.kexts().unload(loaded);
            return null;
        } catch (KextLoadException e) {
            // The link failure's message, or load's validation message (its first two lines).
            String message = e.getMessage();
            int log = message.indexOf("\nKernel log");
            return log < 0 ? message : message.substring(0, log);
        }
    }

    private static String bundleId(Class<? extends Kext> kext) {
        KextBundle bundle = kext.getAnnotation(KextBundle.class);
        return "kxld[" + (bundle == null ? kext.getName() : bundle.id()) + "]";
    }

    private static String report(EvaluationResult result) {
        assertThat(result.hasViolation()).isTrue();
        return String.join("\n", result.getFailureReport().getDetails());
    }

    private static List<Class<? extends Kext>> concat(List<Class<? extends Kext>> a, List<Class<? extends Kext>> b) {
        List<Class<? extends Kext>> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
