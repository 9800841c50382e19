package dev.kextharness.kernel;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/** The kernel's packages form no cycle: each subsystem can be read, and changed, on its own. */
class KernelArchitectureTest {
    private final JavaClasses kernel = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.kextharness.kernel");

    @Test
    void noPackageCycleAmongTheKernelsPackages() {
        // (**) makes every package its own slice, the root package (Kernel) included.
        slices().matching("dev.kextharness.(**)").should().beFreeOfCycles().check(kernel);
    }

    @Test
    void kextManagementNeverNamesTheKernelClass() {
        noClasses().that().resideInAPackage("dev.kextharness.kernel.kext..")
                .should().dependOnClassesThat().resideInAPackage("dev.kextharness.kernel")
                .because("the kernel hands OSKext a KextHost; a callback into Kernel would make a cycle")
                .check(kernel);
    }
}
