package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kernel.panic.KernelPanic;
import org.assertj.core.api.AbstractThrowableAssert;

/**
 * Assertions on a kernel panic; the usual throwable assertions apply too.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class KernelPanicAssert extends AbstractThrowableAssert<KernelPanicAssert, KernelPanic> {

    KernelPanicAssert(KernelPanic actual) {
        super(actual, KernelPanicAssert.class);
    }

    /** The panic string is exactly this, as XNU formats it (trailing newline ignored). */
    public KernelPanicAssert hasPanicString(String expected) {
        isNotNull();
        if (!actual.panicString().strip().equals(expected.strip())) {
            failWithMessage("%s", KextErrors.shouldHavePanicString(expected, actual));
        }
        return this;
    }

    public KernelPanicAssert panicStringContains(String expected) {
        isNotNull();
        if (!actual.panicString().contains(expected)) {
            failWithMessage("%s", KextErrors.shouldHavePanicStringContaining(expected, actual));
        }
        return this;
    }

    public KernelPanicAssert panicLogContains(String expected) {
        isNotNull();
        if (!actual.panicLog().contains(expected)) {
            failWithMessage("Expecting the panic log to contain:%n  \"%s\"%nbut it was:%n%s", expected, actual.panicLog());
        }
        return this;
    }
}
