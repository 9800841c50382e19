package com.example.kexts;

import dev.kextharness.junit.ExpectLeak;
import dev.kextharness.junit.KextTest;
import dev.kextharness.junit.LoadKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.Family;
import org.junit.jupiter.api.Test;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

@KextTest                                  // one annotation; attributes configure the kernel
class MemleakKextTest {
    @Test
    void balancedKextUnloadsClean(Kernel kernel) {          // injected, fresh per test
        LoadedKext kext = kernel.kextload(BalancedKext.class);
        kext.service(Counter.class).bump();                 // exercise it through an interface
    }                                                       // unloaded and judged after the test

    @Test
    void counterCountsAndLeavesNothingBehind(@LoadKext(BalancedKext.class) LoadedKext kext, Kernel kernel) {
        Counter counter = kext.service(Counter.class);
        counter.bump();

        assertThat(counter.bump()).isEqualTo(2);
        kernel.kextunload(kext);
        assertThat(kernel).hasNoLeaks();
    }

    @Test
    @ExpectLeak(kext = MemleakKext.class, site = "MemleakKext.start", family = Family.MALLOC, count = 1)
    void memleakLeaksTheByteItAllocatesAtStart(@LoadKext(MemleakKext.class) LoadedKext kext) {
    }
}
