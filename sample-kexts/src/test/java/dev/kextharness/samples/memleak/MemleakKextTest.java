package dev.kextharness.samples.memleak;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import org.junit.jupiter.api.Test;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;

@KextTest(leakPolicy = LeakPolicy.PANIC)
class MemleakKextTest {

    @Test
    void leakOnUnloadPanicsNamingTheMallocSite(Kernel kernel) {
        LoadedKext kext = kernel.kextload(MemleakKext.class);

        assertThatPanics(() -> kernel.kextunload(kext))
                .panicStringContains("cn.junkman.kext-memleak")
                .panicStringContains("1 allocation (1 byte) outstanding at unload")
                .panicLogContains("cn.junkman.kext-memleak(1.0)");
    }

    @Test
    void balancedTwinUnloadsClean(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedMemleakKext.class);
        kernel.kextunload(kext);

        assertThat(kernel).hasNoLeaks();
    }
}
