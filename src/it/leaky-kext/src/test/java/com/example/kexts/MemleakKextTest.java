package com.example.kexts;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import org.junit.jupiter.api.Test;

@KextTest
class MemleakKextTest {

    @Test
    void memleakKextUnloadsClean(Kernel kernel) {
        kernel.kextload(MemleakKext.class);
    }
}
