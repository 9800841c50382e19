package dev.kextharness.junit;

import dev.kextharness.kernel.panic.KernelPanic;

import java.util.Collections;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Panics a test asserted with {@link KextAssertions#assertThatPanics}: those are the test's to
 * judge. Any other panic of a test's kernel fails the test, whatever became of the exception (a
 * kext, or the test, may have caught and dropped it). Weak, so a panic and its kernel go when
 * the test does.
 */
final class ObservedPanics {
    private static final Set<KernelPanic> OBSERVED = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<>()));

    private ObservedPanics() {
    }

    static void observed(KernelPanic panic) {
        OBSERVED.add(panic);
    }

    static boolean wasObserved(KernelPanic panic) {
        return OBSERVED.contains(panic);
    }
}
