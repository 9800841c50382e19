package dev.kextharness.kernel.kext;

import java.util.Map;

/**
 * The libkern kext return codes ({@code <libkern/OSKextLib.h>}: {@code 0xdc000000 | 0x8000 | code})
 * and the texts {@code mach_error_string} gives them ({@code libsyscall/mach/err_libkern.sub}).
 */
final class KextReturn {
    private KextReturn() {
    }

    static final int KERN_SUCCESS = 0;
    static final int KERN_FAILURE = 5;

    static final int NOT_FOUND = 0xdc008006;
    static final int NOT_A_KEXT = 0xdc00800b;
    static final int VALIDATION = 0xdc00800c;
    static final int DEPENDENCIES = 0xdc00800e;
    static final int LOADED_VERSION_DIFFERS = 0xdc008014;
    static final int LINK_ERROR = 0xdc008016;
    static final int START_STOP_ERROR = 0xdc008017;
    static final int IN_USE = 0xdc008018;

    private static final Map<Integer, String> TEXT = Map.of(
            NOT_FOUND, "(libkern/kext) not found",
            NOT_A_KEXT, "(libkern/kext) not a kext",
            VALIDATION, "(libkern/kext) validation failure",
            DEPENDENCIES, "(libkern/kext) dependency resolution failure",
            LOADED_VERSION_DIFFERS, "(libkern/kext) different version/uuid already loaded",
            LINK_ERROR, "(libkern/kext) link error",
            START_STOP_ERROR, "(libkern/kext) kext (kmod) start/stop routine failed",
            IN_USE, "(libkern/kext) kext is in use or retained (cannot unload)");

    /** {@code mach_error_string(code)} for the codes the kext manager returns. */
    static String text(int code) {
        return TEXT.getOrDefault(code, "(libkern/kext) error " + hex(code));
    }

    /** C's {@code 0x%x} of a 32-bit value. */
    static String hex(int value) {
        return "0x" + Integer.toHexString(value);
    }
}
