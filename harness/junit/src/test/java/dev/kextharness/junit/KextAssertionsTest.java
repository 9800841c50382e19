package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.kexts.BalancedKext;
import dev.kextharness.junit.fixtures.kexts.Buffers;
import dev.kextharness.junit.fixtures.kexts.LeakyKext;
import dev.kextharness.junit.fixtures.kexts.PanickingKext;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import org.junit.jupiter.api.Test;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The assertions, on kernels the extension boots (so this also runs the extension directly under surefire). */
@KextTest(leakPolicy = LeakPolicy.XNU)
class KextAssertionsTest {

    @Test
    void balancedKextHoldsWhileLoadedAndLeavesNothing(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedKext.class);
        assertThat(kernel).hasLiveAllocations(1).hasNoLeaks();

        kernel.kextunload(kext);

        assertThat(kernel).hasLiveAllocations(0).hasNoLeaks();
    }

    @Test
    void leakyKextLeavesItsBlockBehind(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LeakyKext.class);
        assertThatThrownBy(() -> assertThat(kernel).hasLeaksIn("dev.kextharness.fixture.leaky"))
                .hasMessageContaining("still loaded");

        kernel.kextunload(kext);

        assertThat(kernel).hasLeaksIn("dev.kextharness.fixture.leaky").hasLiveAllocations(1);
        assertThatThrownBy(() -> assertThat(kernel).hasNoLeaks())
                .hasMessageContaining("found 1");
        assertThatThrownBy(() -> assertThat(kernel).hasLeaksIn("dev.kextharness.fixture.balanced"))
                .hasMessageContaining("left none");
    }

    @Test
    void liveAllocationCountMismatchSaysBoth(@LoadKext(BalancedKext.class) LoadedKext kext, Kernel kernel) {
        kext.service(Buffers.class).allocate(48);

        assertThatThrownBy(() -> assertThat(kernel).hasLiveAllocations(1))
                .hasMessageContaining("Expecting 1 live kext allocation but found 2");
    }

    @Test
    void panicsAreAssertedOnTheirPanicString(@LoadKext(PanickingKext.class) LoadedKext kext) {
        Buffers buffers = kext.service(Buffers.class);

        assertThatPanics(() -> buffers.allocate(7))
                .panicStringContains("refusing to allocate 7 bytes")
                .hasPanicString("fixture-panicking: refusing to allocate 7 bytes");
    }

    @Test
    void codeThatDoesNotPanicFails(@LoadKext(BalancedKext.class) LoadedKext kext) {
        Buffers buffers = kext.service(Buffers.class);

        assertThatThrownBy(() -> assertThatPanics(() -> buffers.release(buffers.allocate(1))))
                .hasMessage("Expecting the code to panic the kernel, but it returned normally");
        assertThatThrownBy(() -> assertThatPanics(() -> {
            throw new IllegalStateException("not a panic");
        })).hasMessageContaining("but it threw java.lang.IllegalStateException: not a panic");
    }

    @Test
    void wrongPanicStringSaysWhatItWas(@LoadKext(PanickingKext.class) LoadedKext kext) {
        Buffers buffers = kext.service(Buffers.class);

        assertThatThrownBy(() -> assertThatPanics(() -> buffers.allocate(3)).panicStringContains("double free"))
                .hasMessageContaining("Expecting the panic string to contain:")
                .hasMessageContaining("refusing to allocate 3 bytes");
    }
}
