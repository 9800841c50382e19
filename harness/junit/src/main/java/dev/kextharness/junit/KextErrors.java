package dev.kextharness.junit;

import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.panic.KernelPanic;

/**
 * The failure messages of {@link KernelAssert} and {@link KernelPanicAssert}, one per expectation,
 * each naming what was expected, what was found, and where to look.
 */
final class KextErrors {
    private KextErrors() {
    }

    static String shouldHaveNoLeaks(LedgerSnapshot leaks) {
        return "Expecting the kernel to hold no allocation of an unloaded kext, but found "
                + leaks.count() + ":\n" + leaks;
    }

    static String shouldHaveLeaksIn(String bundleId, boolean loaded, LedgerSnapshot leaks) {
        if (loaded) {
            return "Expecting leaks in " + bundleId + ", but it is still loaded: what it holds is not leaked "
                    + "until it unloads (kextunload it first)";
        }
        return "Expecting " + bundleId + " to have left allocations behind at unload, but it left none."
                + (leaks.isEmpty() ? "" : " Kexts that did:\n" + leaks);
    }

    static String shouldHaveLiveAllocations(int expected, LedgerSnapshot live) {
        return "Expecting " + expected + " live kext allocation" + (expected == 1 ? "" : "s") + " but found "
                + live.count() + (live.isEmpty() ? "" : ":\n" + live);
    }

    static String shouldPanic(Throwable thrown) {
        return thrown == null
                ? "Expecting the code to panic the kernel, but it returned normally"
                : "Expecting the code to panic the kernel, but it threw " + thrown;
    }

    static String shouldHavePanicString(String expected, KernelPanic actual) {
        return "Expecting the panic string to be:\n  \"" + expected + "\"\nbut it was:\n  \"" + actual.panicString() + "\"";
    }

    static String shouldHavePanicStringContaining(String expected, KernelPanic actual) {
        return "Expecting the panic string to contain:\n  \"" + expected + "\"\nbut it was:\n  \""
                + actual.panicString() + "\"";
    }
}
