package com.example.kexts;

import dev.kextharness.junit.KextRules;
import org.junit.jupiter.api.Test;

class KextArchitectureTest {

    @Test
    void kextsLink() {
        KextRules.check("com.example.kexts");
    }
}
