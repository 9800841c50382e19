package com.example.kexts;

import dev.kextharness.junit.FailEachAllocation;
import dev.kextharness.junit.KextTest;
import dev.kextharness.junit.LoadKext;
import dev.kextharness.kernel.kext.LoadedKext;

@KextTest
class NetworkKextTest {

    /** A counting run, then one run per allocation of start with that allocation failed. */
    @FailEachAllocation
    void everyErrorPathOfStartIsClean(@LoadKext(NetworkKext.class) LoadedKext kext) {
    }
}
