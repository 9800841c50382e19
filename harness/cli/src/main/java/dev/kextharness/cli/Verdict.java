package dev.kextharness.cli;

import dev.kextharness.samples.Sample;

import java.util.Locale;

/** How a kext's run ended, and the exit status that says so. */
enum Verdict {
    CLEAN(ExitCodes.CLEAN, Sample.Outcome.CLEAN),
    LEAK(ExitCodes.LEAK, Sample.Outcome.LEAK),
    FINDING(ExitCodes.LEAK, Sample.Outcome.FINDING),
    PANIC(ExitCodes.PANIC, Sample.Outcome.PANIC),
    LOAD_FAILED(ExitCodes.LOAD_FAILED, null);

    private final int exitCode;
    private final Sample.Outcome outcome;

    Verdict(int exitCode, Sample.Outcome outcome) {
        this.exitCode = exitCode;
        this.outcome = outcome;
    }

    int exitCode() {
        return exitCode;
    }

    /** True if this is what the catalog says the sample's kext ends in. */
    boolean is(Sample.Outcome expected) {
        return outcome == expected;
    }

    /** Lower case with a dash, for tables and JSON: {@code clean}, {@code load-failed}. */
    String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
