package dev.kextharness.kpi;

/**
 * The body of every KPI function before linking. The facade holds no state: kextload rewrites each
 * call site in a kext to the kernel that loaded it, so reaching one of these bodies means the code
 * runs outside a loaded kext.
 */
final class Unlinked {
    private Unlinked() {
    }

    static IllegalStateException call(String function) {
        return new IllegalStateException(function + "() was called by code that is not part of a loaded kext. "
                + "Kext code must run inside a kext loaded with Kernel.kextload(...), which links each KPI call "
                + "to its kernel; call the kext through the service interface it implements "
                + "(LoadedKext.service(...)), never by constructing the kext class yourself.");
    }
}
