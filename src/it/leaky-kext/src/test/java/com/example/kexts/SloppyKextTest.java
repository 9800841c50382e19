package com.example.kexts;

import dev.kextharness.junit.FailEachAllocation;
import dev.kextharness.junit.KextTest;
import dev.kextharness.junit.LoadKext;
import dev.kextharness.kernel.kext.LoadedKext;

@KextTest
class SloppyKextTest {

    @FailEachAllocation
    void everyErrorPathOfStartIsClean(@LoadKext(SloppyKext.class) LoadedKext kext) {
    }
}
