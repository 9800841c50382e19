package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.panic.KernelPanic;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Entry point of the AssertJ-style assertions on a simulated kernel:
 * {@code assertThat(kernel).hasNoLeaks()}, {@code assertThatPanics(() -> ...).panicStringContains("...")}.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class KextAssertions {
    private KextAssertions() {
    }

    public static KernelAssert assertThat(Kernel actual) {
        return new KernelAssert(actual);
    }

    public static KernelPanicAssert assertThat(KernelPanic actual) {
        return new KernelPanicAssert(actual);
    }

    /** Runs the code, which must panic the kernel; returns an assertion on that panic. */
    public static KernelPanicAssert assertThatPanics(ThrowingCallable code) {
        Throwable thrown;
        try {
            code.call();
            thrown = null;
        } catch (Throwable t) {
            thrown = t;
        }
        if (thrown instanceof KernelPanic panic) {
            return new KernelPanicAssert(panic);
        }
        throw new AssertionError(KextErrors.shouldPanic(thrown), thrown);
    }
}
