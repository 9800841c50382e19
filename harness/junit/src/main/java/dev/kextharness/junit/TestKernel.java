package dev.kextharness.junit;

import dev.kextharness.kernel.Kernel;

/**
 * One test's kernel and what the test expects of it, kept in the test's
 * {@code ExtensionContext.Store}; JUnit closes it when the test's context ends.
 */
final class TestKernel implements AutoCloseable {
    private final Kernel kernel;
    private final ExpectLeak expectLeak;
    private final ExpectPanic expectPanic;

    TestKernel(Kernel kernel, ExpectLeak expectLeak, ExpectPanic expectPanic) {
        this.kernel = kernel;
        this.expectLeak = expectLeak;
        this.expectPanic = expectPanic;
    }

    Kernel kernel() {
        return kernel;
    }

    /** The test's {@code @ExpectLeak}, or null. */
    ExpectLeak expectLeak() {
        return expectLeak;
    }

    /** The test's {@code @ExpectPanic}, or null. */
    ExpectPanic expectPanic() {
        return expectPanic;
    }

    @Override
    public void close() {
        kernel.close();
    }
}
