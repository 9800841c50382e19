package dev.kextharness.kernel.kext;

import java.util.List;

/**
 * A kext failed to load: its dependencies were missing, it failed to link, or its start routine
 * failed. Carries XNU's result code ({@code kOSKextReturn...}) and the kernel log lines of the
 * attempt. Whatever the cause, the kext is not loaded afterwards.
 *
 * <p>Stability: stable.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public class KextLoadException extends KextException {
    private static final long serialVersionUID = 1L;

    KextLoadException(String bundleId, int result, String message, List<String> log, Throwable cause) {
        super(bundleId, result, message, log, cause);
    }
}
