package dev.kextharness.kernel.kext;

import java.util.List;

/**
 * A kextload or kextunload that did not happen: which kext, XNU's result code
 * ({@code kOSKextReturn...}) and the kernel log lines the attempt wrote.
 *
 * <p>Stability: stable.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public abstract class KextException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String bundleId;
    private final int result;
    private final List<String> log;

    KextException(String bundleId, int result, String message, List<String> log, Throwable cause) {
        super(message, cause);
        this.bundleId = bundleId;
        this.result = result;
        this.log = List.copyOf(log);
    }

    /** The bundle identifier of the kext, or its class name if it had none. */
    public String bundleId() {
        return bundleId;
    }

    /** XNU's result code, such as {@code kOSKextReturnStartStopError} (0xdc008017). */
    public int result() {
        return result;
    }

    /** The kernel log lines written during the attempt. */
    public List<String> log() {
        return log;
    }
}
