package dev.kextharness.junit;

import org.apiguardian.api.API;

/**
 * An invocation of a {@link FailEachAllocation} test failed after its allocation was failed: the
 * error path that allocation leads to leaked or panicked. The message names the allocation that
 * returned NULL, then gives the verdict (the leak report, the panic), which is also the cause.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
public final class ErrorPathFailure extends AssertionError {
    private static final long serialVersionUID = 1L;

    ErrorPathFailure(String injection, Throwable verdict) {
        super(injection + " returned NULL, and the error path that follows failed:\n" + verdict.getMessage(), verdict);
    }
}
