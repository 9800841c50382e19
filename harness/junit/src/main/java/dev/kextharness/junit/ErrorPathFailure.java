package dev.kextharness.junit;

/**
 * An invocation of a {@link FailEachAllocation} test failed after its allocation was failed: the
 * error path that allocation leads to leaked or panicked. The message names the allocation that
 * returned NULL, then gives the verdict (the leak report, the panic), which is also the cause.
 *
 * <p>Stability: experimental.
 */
public final class ErrorPathFailure extends AssertionError {
    private static final long serialVersionUID = 1L;

    ErrorPathFailure(String injection, Throwable verdict) {
        super(injection + " returned NULL, and the error path that follows failed:\n" + verdict.getMessage(), verdict);
    }
}
