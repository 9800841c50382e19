package dev.kextharness.kernel.kext;

import java.util.List;

/**
 * A kext failed to load: its dependencies were missing, it failed to link, or its start routine
 * failed. Carries XNU's result code ({@code kOSKextReturn...}) and the kernel log lines of the
 * attempt. Whatever the cause, the kext is not loaded afterwards.
 *
 * <p>Stability: stable.
 */
public class KextLoadException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String bundleId;
    private final int result;
    private final List<String> log;

    KextLoadException(String bundleId, int result, String message, List<String> log, Throwable cause) {
        super(message, cause);
        this.bundleId = bundleId;
        this.result = result;
        this.log = List.copyOf(log);
    }

    /** The bundle identifier of the kext that failed, or the class name if it had none. */
    public String bundleId() {
        return bundleId;
    }

    /** The load result, such as {@code kOSKextReturnStartStopError} (0xdc008017). */
    public int result() {
        return result;
    }

    /** The kernel log lines written during the attempt. */
    public List<String> log() {
        return log;
    }
}
