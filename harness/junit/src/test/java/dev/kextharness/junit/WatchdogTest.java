package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.TimeoutFixture;
import dev.kextharness.junit.fixtures.WatchdogFixture;
import dev.kextharness.kernel.panic.KernelPanic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;

import static dev.kextharness.junit.Fixtures.failures;
import static dev.kextharness.junit.Fixtures.reportValues;
import static dev.kextharness.junit.Fixtures.run;
import static dev.kextharness.junit.Fixtures.throwable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.test;

/** The kext watchdog and a panic as the kernel's state, as a JUnit user meets them. */
class WatchdogTest {

    private static Throwable failureOf(EngineExecutionResults results, String method) {
        Event finished = results.testEvents().finished().stream()
                .filter(e -> e.getTestDescriptor().getDisplayName().startsWith(method + "("))
                .findFirst().orElseThrow(() -> new AssertionError(method + " did not finish"));
        return throwable(finished);
    }

    @Test
    void kextsThatNeverReturnFailTheirTestsWithAWatchdogPanicAndTheOthersGoOn() {
        EngineExecutionResults results = run(WatchdogFixture.class, Map.of("kextharness.watchdog", "100ms"));

        results.testEvents().assertStatistics(stats -> stats.started(5).succeeded(1).failed(4));
        results.testEvents().assertThatEvents().haveExactly(1, event(test("goesOn"), finishedSuccessfully()));
        assertThat(failureOf(results, "loopingStart")).isInstanceOf(KernelPanic.class)
                .hasMessageContaining("kext watchdog: dev.kextharness.fixture.spinstart (load tag 9) ran its start routine")
                .hasMessageContaining("stopped at dev.kextharness.junit.fixtures.kexts.SpinningStartKext.start("
                        + "SpinningStartKext.java:");
        assertThat(failureOf(results, "loopingServiceCall")).isInstanceOf(KernelPanic.class)
                .hasMessageContaining("ran its service call Looper.spin for");
        assertThat(failureOf(results, "loopCatchingThrowable")).isInstanceOf(KernelPanic.class)
                .hasMessageContaining("ran its service call Looper.spinCatchingEverything for");
        assertThat(reportValues(results, KextHarnessExtension.PANIC_ENTRY)).hasSize(4);
    }

    @Test
    void aPanicTheKextAndTheTestSwallowStillFailsTheTestWithWhatTheKextHeld() {
        EngineExecutionResults results = run(WatchdogFixture.class, Map.of("kextharness.watchdog", "100ms"));

        Throwable failure = failureOf(results, "swallowedPanic");
        assertThat(failure).isInstanceOf(KernelPanic.class).hasMessageContaining("double free");
        assertThat(failure.getSuppressed()).singleElement().extracting(Throwable::getMessage).asString()
                .startsWith("dev.kextharness.fixture.looping was still loaded when the kernel panicked")
                .contains("1 allocation of 64 bytes").contains("LoopingKext.java:");
        assertThat(reportValues(results, KextHarnessExtension.LEAK_ENTRY))
                .anySatisfy(report -> assertThat(report).contains("dev.kextharness.fixture.looping"));
    }

    @Test
    void junitsOwnTimeoutWorksAndTheKextIsStoppedUnderIt() {
        EngineExecutionResults results = run(TimeoutFixture.class, Map.of("kextharness.watchdog", "off"));

        results.testEvents().assertStatistics(stats -> stats.started(2).succeeded(1).failed(1));
        Throwable failure = failureOf(results, "loopingStartUnderTimeout");
        assertThat(failure).isInstanceOf(TimeoutException.class);
        assertThat(failure.getSuppressed()).singleElement().isInstanceOf(KernelPanic.class)
                .extracting(Throwable::getMessage).asString()
                .contains("dev.kextharness.fixture.spinstart (load tag 9) was unloaded while its start routine still ran")
                .contains("SpinningStartKext.start(SpinningStartKext.java:");
    }

    @Test
    void theWatchdogKeyTakesATimeWithItsUnitOrOff() {
        assertThat(HarnessSettings.parseWatchdog("k", "250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(HarnessSettings.parseWatchdog("k", "5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(HarnessSettings.parseWatchdog("k", "2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(HarnessSettings.parseWatchdog("k", "off")).isZero();
        assertThat(HarnessSettings.parseWatchdog("k", "0")).isZero();
        assertThat(catchThrowableOfType(() -> HarnessSettings.parseWatchdog("kextharness.watchdog", "100"),
                ExtensionConfigurationException.class))
                .hasMessageContaining("kextharness.watchdog").hasMessageContaining("'100'").hasMessageContaining("unit");
        assertThat(failures(run(WatchdogFixture.class, Map.of("kextharness.watchdog", "soon"))))
                .first().isInstanceOf(ExtensionConfigurationException.class);
    }
}
