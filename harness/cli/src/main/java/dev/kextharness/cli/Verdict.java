package dev.kextharness.cli;

import java.util.Locale;

/** How a kext's run ended, and the exit status that says so. */
enum Verdict {
    CLEAN(ExitCodes.CLEAN),
    LEAK(ExitCodes.LEAK),
    FINDING(ExitCodes.LEAK),
    PANIC(ExitCodes.PANIC),
    LOAD_FAILED(ExitCodes.LOAD_FAILED);

    private final int exitCode;

    Verdict(int exitCode) {
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }

    /** Lower case with a dash, for tables and JSON: {@code clean}, {@code load-failed}. */
    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
