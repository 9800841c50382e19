package dev.kextharness.kernel.kext;

import java.util.List;

/**
 * A kext could not be unloaded: other loaded kexts link against it ({@code kOSKextReturnInUse}),
 * its stop routine failed ({@code kOSKextReturnStartStopError}), or it is not loaded
 * ({@code kOSKextReturnNotFound}). In each case it stays as it was: loaded, or already gone.
 *
 * <p>Stability: stable.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public final class KextUnloadException extends KextException {
    private static final long serialVersionUID = 1L;

    KextUnloadException(String bundleId, int result, String message, List<String> log, Throwable cause) {
        super(bundleId, result, message, log, cause);
    }
}
