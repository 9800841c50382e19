package dev.kextharness.samples;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import dev.kextharness.junit.KextRules;
import dev.kextharness.kpi.Kext;
import dev.kextharness.samples.rogue.RogueSampleHelper;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample kexts are kext code: they follow the shipped {@link KextRules}, and every class of a
 * sample's package (helpers and service interfaces included) uses only the KPI, its own package
 * and basic JDK packages. The catalog package, which drives the samples from outside, is exempt.
 */
class SampleKextArchitectureTest {
    private static final String CATALOG_PACKAGE = "dev.kextharness.samples";
    private static final Set<String> BASIC_JDK = Set.of("java.lang", "java.util", "java.util.concurrent.atomic",
            "java.util.function");

    private static final JavaClasses SAMPLES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages(CATALOG_PACKAGE);

    /** Every class of a sample's own package: what a kext links as its own code or shares with its clients. */
    private static final ArchRule KEXT_PACKAGES_USE_ONLY_THE_KPI_AND_BASIC_JDK = classes()
            .that().resideInAPackage(CATALOG_PACKAGE + ".*..")
            .should(new ArchCondition<>("depend only on the KPI, their own package and basic JDK packages") {
                @Override
                public void check(JavaClass origin, ConditionEvents events) {
                    for (Dependency dependency : origin.getDirectDependenciesFromSelf()) {
                        JavaClass target = dependency.getTargetClass().getBaseComponentType();
                        String pkg = target.getPackageName();
                        boolean allowed = target.isPrimitive() || pkg.equals(origin.getPackageName())
                                || pkg.equals("dev.kextharness.kpi") || BASIC_JDK.contains(pkg);
                        if (!allowed) {
                            events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
                        }
                    }
                }
            })
            .because("a sample kext is what a kext author writes: the KPI facade and the JDK's basics, nothing of "
                    + "the simulated kernel nor of another sample");

    @Test
    void everySampleKextFollowsTheShippedKextRules() {
        KextRules.ALL.check(SAMPLES);
    }

    @Test
    void sampleKextPackagesUseOnlyTheKpiAndBasicJdk() {
        KEXT_PACKAGES_USE_ONLY_THE_KPI_AND_BASIC_JDK.check(SAMPLES);
    }

    @Test
    void theDependencyRuleFlagsTheKernelAnotherSampleAndReflection() {
        JavaClasses rogue = new ClassFileImporter().importClasses(RogueSampleHelper.class);

        EvaluationResult result = KEXT_PACKAGES_USE_ONLY_THE_KPI_AND_BASIC_JDK.evaluate(rogue);

        assertThat(String.join("\n", result.getFailureReport().getDetails()))
                .contains("dev.kextharness.kernel.Kernel")
                .contains("dev.kextharness.samples.ostag.OSMallocTagLeakKext")
                .contains("java.lang.reflect.Method");
    }

    @Test
    void everyKextOfTheCatalogIsAmongTheCheckedClasses() {
        for (Sample sample : SampleCatalog.all()) {
            for (Class<? extends Kext> kext : java.util.List.of(sample.kext(), sample.twin())) {
                assertThat(SAMPLES.contain(kext)).as(kext.getName()).isTrue();
                assertThat(kext.getPackageName()).as("a sample lives in a package of its own under the catalog's")
                        .startsWith(CATALOG_PACKAGE + ".");
            }
        }
    }
}
