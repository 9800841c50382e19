package dev.kextharness.junit;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.lang.EvaluationResult;
import dev.kextharness.junit.fixtures.badkexts.RogueKext;
import dev.kextharness.junit.fixtures.kexts.BalancedKext;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KextRulesTest {

    @Test
    void wellBehavedKextsPass() {
        JavaClasses kexts = new ClassFileImporter().importPackagesOf(BalancedKext.class);

        assertThat(KextRules.ALL.evaluate(kexts).hasViolation()).isFalse();
    }

    @Test
    void aRogueKextBreaksEveryRule() {
        JavaClasses rogue = new ClassFileImporter().importClasses(RogueKext.class);

        assertThat(report(KextRules.KEXTS_ARE_BUNDLES.evaluate(rogue)))
                .contains("KextBundle").contains("has no public no-argument constructor");
        assertThat(report(KextRules.KEXTS_USE_ONLY_THE_KPI.evaluate(rogue))).contains("dev.kextharness.kernel.Kernel");
        assertThat(report(KextRules.KEXTS_CREATE_NO_THREADS.evaluate(rogue))).contains("java.lang.Thread");
        assertThat(report(KextRules.KEXTS_USE_NO_REFLECTION.evaluate(rogue))).contains("getMethods");
    }

    private static String report(EvaluationResult result) {
        assertThat(result.hasViolation()).isTrue();
        return String.join("\n", result.getFailureReport().getDetails());
    }
}
