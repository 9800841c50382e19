package com.example.kexts;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import org.junit.jupiter.api.Test;

@KextTest
class BalancedKextTest {

    @Test
    void balancedKextUnloadsClean(Kernel kernel) {
        kernel.kextload(BalancedKext.class).service(Counter.class).bump();
    }
}
