package dev.kextharness.kpi;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The facade is all a kext compiles against, so it must not drag the kernel in: nothing in
 * {@code dev.kextharness.kpi} may depend on the simulated kernel, or on anything but the JDK.
 */
class KpiArchitectureTest {
    private final JavaClasses kpi = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.kextharness.kpi");

    @Test
    void kpiDoesNotReachTheKernel() {
        noClasses().that().resideInAPackage("dev.kextharness.kpi..")
                .should().dependOnClassesThat().resideInAPackage("dev.kextharness.kernel..")
                .because("kexts compile against the KPI alone; the kernel's internals must stay unreachable")
                .check(kpi);
    }

    @Test
    void kpiDependsOnNothingButTheJdk() {
        noClasses().that().resideInAPackage("dev.kextharness.kpi..")
                .should().dependOnClassesThat().resideOutsideOfPackages("dev.kextharness.kpi..", "java..")
                .because("the KPI module depends on nothing but the JDK")
                .check(kpi);
    }

    @Test
    void kernelIsNotOnTheKpiClasspath() {
        // The kernel module is not a dependency of this module: its classes cannot even be loaded here.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Class.forName("dev.kextharness.kernel.Kernel"))
                .isInstanceOf(ClassNotFoundException.class);
    }
}
