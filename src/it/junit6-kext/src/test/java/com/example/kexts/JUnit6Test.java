package com.example.kexts;

import dev.kextharness.junit.FailEachAllocation;
import dev.kextharness.junit.KextTest;
import dev.kextharness.junit.LoadKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;
import org.junit.jupiter.api.Test;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

@KextTest
class JUnit6Test {

    @Test
    void runsOnJUnit6() {
        assertThat(Test.class.getPackage().getImplementationVersion()).startsWith("6.");
    }

    @Test
    void balancedKextUnloadsClean(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedKext.class);
        assertThat(kext.service(Counter.class).bump()).isEqualTo(1);
        kernel.kextunload(kext);
        assertThat(kernel).hasNoLeaks();
    }

    @FailEachAllocation
    void everyErrorPathOfStartIsClean(@LoadKext(NetworkKext.class) LoadedKext kext) {
    }
}
