package dev.kextharness.kernel.panic;

import static dev.kextharness.kernel.TestKernel.p;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.kext.fixtures.PanicKext;
import org.junit.jupiter.api.Test;

/**
 * The first line of a panic log (fact sheet §8.4 item 1) as xnu-6153 prints each kind: the
 * {@code panic()} macro stringifies a kernel format (quotes, {@code \n} and {@code "} escaped,
 * {@code @file:line} of the call's last line); trap.c undefines the macro, so a kernel trap
 * prints plain; a kext's exported {@code panic()} prints its message as formatted.
 */
class PanicLineTest {
    private static final String XNU = Panicker.XNU_SOURCE;

    private static String firstLine(KernelPanic panic) {
        String log = panic.panicLog();
        return log.substring(0, log.indexOf('\n'));
    }

    @Test
    void aKernelPanicShowsTheFormatStringifiedAndTheLineOfXnusPanicCall() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(1100); // kalloc.1152 has no zcache: the double free reaches zfree's own check
        t.kfree(a, 1100);
        KernelPanic panic = t.assertPanics(() -> t.kfree(a, 1100),
                "zfree: double free of " + p(a) + " to zone kalloc.1152\n");
        // zalloc.c:1329-1330: panic("zfree: double free of %p to zone %s\n", ...)
        assertThat(firstLine(panic)).matches("panic\\(cpu 0 caller 0x[0-9a-f]+\\): \".*")
                .endsWith(": \"zfree: double free of " + p(a) + " to zone kalloc.1152\\n\"@"
                + XNU + "osfmk/kern/zalloc.c:1330");
        assertThat(panic.panicLog()).contains("kalloc.1152\\n\"@" + XNU + "osfmk/kern/zalloc.c:1330\nBacktrace (CPU 0)");
    }

    @Test
    void quotesInAKernelFormatAreEscaped() {
        assertThat(PanicLog.stringified("zalloc: zone \"kalloc.16\" empty.")).isEqualTo(
                "zalloc: zone \\\"kalloc.16\\\" empty.");
        assertThat(PanicLog.stringified("a\\b\tc\n")).isEqualTo("a\\\\b\\tc\\n");
    }

    @Test
    void theKfreeSizeCheckPointsAtKallocC868() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(1L << 20);
        KernelPanic panic = TestKernel.panicOf(() -> t.kfree(a, 1L << 40));
        assertThat(firstLine(panic)).endsWith("\"@" + XNU + "osfmk/kern/kalloc.c:868")
                .contains("\"kfree: size 1099511627776 > kalloc_largest_allocated ");
    }

    @Test
    void aKernelTrapPrintsPlainBecauseTrapCUndefinesTheMacro() {
        TestKernel t = TestKernel.boot();
        KernelPanic panic = TestKernel.panicOf(() -> t.kfree(0, 16));
        assertThat(firstLine(panic)).matches(
                "panic\\(cpu 0 caller 0x[0-9a-f]+\\): Kernel trap at 0xffffff8000a1b2c3, type 14=page fault, registers:");
        assertThat(panic.panicLog()).contains("registers:\nCR0: 0x0000000080010033, CR2: 0x0000000000000000")
                .contains("PL: 0, VF: 0\n\nBacktrace (CPU 0)")
                .doesNotContain("trap.c");
    }

    @Test
    void aKextsOwnPanicKeepsItsNewlinesAndHasNoLocation() {
        Kernel kernel = Kernel.boot(KernelConfig.defaults());
        assertThatThrownBy(() -> kernel.kextload(PanicKext.class)).isInstanceOf(KernelPanic.class);
        String log = kernel.panic().panicLog();
        assertThat(log).matches("(?s)panic\\(cpu 0 caller 0x[0-9a-f]+\\): panic-kext: giving up 42\n\nBacktrace.*");
    }
}
