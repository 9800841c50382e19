package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.ParallelFixture;
import dev.kextharness.kernel.kext.KextLeakError;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.util.Map;

import static dev.kextharness.junit.Fixtures.throwable;
import static org.assertj.core.api.Assertions.assertThat;

class ParallelExecutionTest {

    @Test
    void eachTestIsJudgedOnItsOwnKernel() {
        EngineExecutionResults results = Fixtures.run(ParallelFixture.class, Map.of(
                "junit.jupiter.execution.parallel.enabled", "true",
                "junit.jupiter.execution.parallel.mode.default", "concurrent",
                "junit.jupiter.execution.parallel.config.strategy", "fixed",
                "junit.jupiter.execution.parallel.config.fixed.parallelism", "8"));

        int n = ParallelFixture.REPETITIONS;
        results.testEvents().assertStatistics(stats -> stats.started(2 * n).succeeded(2 * n - n / 3).failed(n / 3));
        for (Event failed : results.testEvents().failed().list()) {
            // "repetition 9 of 60": 9 buffers and the state block outstanding.
            String name = failed.getTestDescriptor().getDisplayName();
            int repetition = Integer.parseInt(name.replaceAll("repetition (\\d+) of \\d+", "$1"));
            assertThat(repetition % 3).as(name).isZero();
            assertThat(throwable(failed)).as(name)
                    .isInstanceOf(KextLeakError.class)
                    .hasMessageStartingWith("KEXT LEAK: dev.kextharness.fixture.leaky: " + (repetition + 1) + " allocations");
        }
    }
}
