package dev.kextharness.cli;

import dev.kextharness.cli.testkexts.SpinningStartKext;
import dev.kextharness.cli.testkexts.SwallowingStartKext;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code --watchdog} and a panic as the kernel's state, as the command line reports them. */
class WatchdogCommandTest {

    @Test
    void aStartThatNeverReturnsEndsInAWatchdogPanicWithThePanicStatus() {
        Cli.Result r = Cli.run("load", SpinningStartKext.class.getName(), "--watchdog", "100ms");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.PANIC);
        assertThat(r.out()).contains("verdict: panic")
                .contains("kext watchdog: com.example.spin-start (load tag 9) ran its start routine for")
                .contains("over the watchdog limit of 100 ms")
                .contains("at dev.kextharness.cli.testkexts.SpinningStartKext.start(SpinningStartKext.java:");
    }

    @Test
    void aPanicTheKextSwallowsStillExitsWithThePanicStatusAndWhatItHeld() {
        Cli.Result r = Cli.run("load", SwallowingStartKext.class.getName());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.PANIC);
        assertThat(r.out()).contains("verdict: panic").contains("double free")
                .contains("com.example.swallowing-start was still loaded when the kernel panicked")
                .contains("SwallowingStartKext.java:");
    }

    @Test
    void aBadWatchdogLimitIsAUsageError() {
        Cli.Result r = Cli.run("load", "memleak", "--watchdog", "soon");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("'soon' is not a watchdog limit").contains("500ms, 5s or 2m");
    }
}
