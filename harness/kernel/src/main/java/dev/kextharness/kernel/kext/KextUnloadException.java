package dev.kextharness.kernel.kext;

import java.util.List;

/**
 * A kext could not be unloaded: other loaded kexts link against it ({@code kOSKextReturnInUse}),
 * its stop routine failed ({@code kOSKextReturnStartStopError}), or it is not loaded
 * ({@code kOSKextReturnNotFound}). In each case it stays as it was: loaded, or already gone.
 *
 * <p>Stability: stable.
 */
public final class KextUnloadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String bundleId;
    private final int result;
    private final List<String> log;

    KextUnloadException(String bundleId, int result, String message, List<String> log, Throwable cause) {
        super(message, cause);
        this.bundleId = bundleId;
        this.result = result;
        this.log = List.copyOf(log);
    }

    public String bundleId() {
        return bundleId;
    }

    /** The unload result, such as {@code kOSKextReturnInUse} (0xdc008018). */
    public int result() {
        return result;
    }

    /** The kernel log lines written during the attempt. */
    public List<String> log() {
        return log;
    }
}
