package com.example.kexts;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import dev.kextharness.junit.KextRules;
import org.junit.jupiter.api.Test;

class KextArchitectureTest {

    @Test
    void kextsUseOnlyTheKpi() {
        KextRules.ALL.check(new ClassFileImporter().importPackages("com.example.kexts"));
    }
}
