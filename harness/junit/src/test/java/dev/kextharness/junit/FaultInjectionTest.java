package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.FaultInjectionFixture;
import dev.kextharness.junit.fixtures.NoHarnessFixture;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.panic.KernelPanic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

import java.util.List;

import static dev.kextharness.junit.Fixtures.reportValues;
import static dev.kextharness.junit.Fixtures.runMethod;
import static dev.kextharness.junit.Fixtures.throwable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;
import static org.junit.platform.testkit.engine.EventConditions.displayName;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.cause;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

class FaultInjectionTest {
    private static final String LOADED_KEXT = "(dev.kextharness.kernel.kext.LoadedKext)";
    private static final String KERNEL = "(dev.kextharness.kernel.Kernel)";

    private static List<String> displayNames(EngineExecutionResults results) {
        return results.testEvents().started().stream().map(e -> e.getTestDescriptor().getDisplayName()).toList();
    }

    @Test
    void correctErrorPathsPassEveryInvocation() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "carefulErrorPaths" + LOADED_KEXT);

        results.testEvents().assertStatistics(stats -> stats.started(4).succeeded(4).failed(0));
        assertThat(displayNames(results)).containsExactly(
                "counting run: no allocation failed",
                "fail-nth 1 of 3: _MALLOC at CarefulKext.start(CarefulKext.java:24)",
                "fail-nth 2 of 3: kalloc at CarefulKext.start(CarefulKext.java:28)",
                "fail-nth 3 of 3: _MALLOC at CarefulKext.allocate(CarefulKext.java:45)");
        assertThat(reportValues(results, FaultRun.POINTS_ENTRY)).singleElement().asString()
                .startsWith("3 allocation points\n  1: _MALLOC at CarefulKext.start(CarefulKext.java:24)");
        assertThat(reportValues(results, FaultRun.INJECTED_ENTRY)).containsExactly(
                "fail-nth 1: _MALLOC at CarefulKext.start(CarefulKext.java:24) returned NULL",
                "fail-nth 2: kalloc at CarefulKext.start(CarefulKext.java:28) returned NULL",
                "fail-nth 3: _MALLOC at CarefulKext.allocate(CarefulKext.java:45) returned NULL");
        // The failed start, and the test's assertion on the NULL buffer, are the error paths' outcome.
        assertThat(reportValues(results, FaultRun.OUTCOME_ENTRY)).hasSize(3)
                .anySatisfy(outcome -> assertThat(outcome).contains("KextLoadException"))
                .anySatisfy(outcome -> assertThat(outcome).contains("AssertionError"));
    }

    @Test
    void aLeakOnOneErrorPathFailsExactlyThatInvocationWithTheReport() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "leakyErrorPath" + LOADED_KEXT);

        results.testEvents().assertStatistics(stats -> stats.started(4).succeeded(3).failed(1));
        results.testEvents().assertThatEvents().haveExactly(1, event(test(),
                displayName("fail-nth 2 of 3: kalloc at LeakyErrorPathKext.start(LeakyErrorPathKext.java:31)"),
                finishedWithFailure(instanceOf(ErrorPathFailure.class), cause(instanceOf(KextLeakError.class)),
                        message(m -> m.startsWith("fail-nth 2 of 3: kalloc at LeakyErrorPathKext.start("
                                + "LeakyErrorPathKext.java:31) returned NULL, and the error path that follows failed:\n"
                                + "KEXT LEAK: dev.kextharness.fixture.leaky-error-path: 1 allocation (16 bytes) outstanding")
                        && m.contains("by _MALLOC\n      at LeakyErrorPathKext.start(LeakyErrorPathKext.java:27)")))));
    }

    @Test
    void familyAttributeFailsOnlyThatFamily() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "onlyKallocOfTheLeakyKext" + LOADED_KEXT);

        assertThat(displayNames(results)).containsExactly("counting run: no allocation failed",
                "fail-nth 1 of 1: kalloc at LeakyErrorPathKext.start(LeakyErrorPathKext.java:31)");
        results.testEvents().assertStatistics(stats -> stats.succeeded(1).failed(1));
    }

    @Test
    void aMissingNullCheckPanicsAndFailsItsInvocation() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "uncheckedNull" + LOADED_KEXT);

        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test(), displayName("fail-nth 1 of 2: _MALLOC at UncheckedKext.start(UncheckedKext.java:25)"),
                        finishedWithFailure(instanceOf(ErrorPathFailure.class), cause(instanceOf(KernelPanic.class)),
                                message(m -> m.contains("type 14=page fault")))))
                .haveExactly(1, event(test(), displayName("fail-nth 2 of 2: kalloc at UncheckedKext.start(UncheckedKext.java:27)"),
                        finishedSuccessfully()));
    }

    @Test
    void aCountingRunWithoutAllocationsFailsAndRunsNothingMore() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "nothingAllocated" + KERNEL);

        results.testEvents().assertStatistics(stats -> stats.started(1).failed(1));
        assertThat(throwable(results.testEvents().failed().list().get(0)))
                .hasMessageContaining("the counting run made no allocation of any allocator in any kext");
    }

    @Test
    void failNthAndFailEachAllocationTogetherAreAConfigurationError() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "bothInjections" + LOADED_KEXT);

        results.testEvents().assertStatistics(stats -> stats.started(1).failed(1));
        assertThat(throwable(results.testEvents().failed().list().get(0)))
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("@FailEachAllocation and @FailNth both inject faults");
    }

    @Test
    void failEachAllocationWithoutTheHarnessIsAConfigurationError() {
        EngineExecutionResults results = Fixtures.run(NoHarnessFixture.class);

        results.testEvents().assertStatistics(stats -> stats.started(1).failed(1));
        assertThat(throwable(results.testEvents().failed().list().get(0)))
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("needs the Kext Harness: annotate the class with @KextTest");
    }

    @Test
    void failNthFailsTheNthAllocationAndTheTestChecksTheOutcome() {
        EngineExecutionResults second = runMethod(FaultInjectionFixture.class, "failNthSecondFailsTheStartCleanly" + KERNEL);
        EngineExecutionResults ofFamily = runMethod(FaultInjectionFixture.class, "failNthOfOneFamily" + KERNEL);

        second.testEvents().assertStatistics(stats -> stats.succeeded(1).failed(0));
        ofFamily.testEvents().assertStatistics(stats -> stats.succeeded(1).failed(0));
        assertThat(reportValues(ofFamily, FaultRun.INJECTED_ENTRY))
                .containsExactly("fail-nth 1: kalloc at CarefulKext.start(CarefulKext.java:28) returned NULL");
    }

    @Test
    void failNthDoesNotTolerateTheLeakOfAnErrorPath() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "failNthOnALeakyErrorPath" + KERNEL);

        results.testEvents().assertThatEvents().haveExactly(1, event(test(), finishedWithFailure(
                instanceOf(KextLeakError.class), message(m -> m.contains("LeakyErrorPathKext.start(LeakyErrorPathKext.java:27)")))));
    }

    @Test
    void failNthBeyondTheLastAllocationFailsTheTest() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "failNthNeverReached" + LOADED_KEXT);

        results.testEvents().assertThatEvents().haveExactly(1, event(test(), finishedWithFailure(message(
                "@FailNth(5): allocation 5 was never made; the test made 2 allocations of any allocator in any kext, "
                        + "so nothing failed. Count the allocations again, or narrow them with the kext and family "
                        + "attributes"))));
    }

    @Test
    void failNthZeroIsAConfigurationError() {
        EngineExecutionResults results = runMethod(FaultInjectionFixture.class, "failNthZero" + KERNEL);

        results.testEvents().assertThatEvents().haveExactly(1, event(test(), finishedWithFailure(
                instanceOf(ExtensionConfigurationException.class), message(m -> m.startsWith("@FailNth(0): fail-nth counts")))));
    }

    @Test
    void invocationsRunInOrderUnderParallelExecution() {
        EngineExecutionResults results = EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
                .configurationParameter("junit.jupiter.execution.parallel.mode.default", "concurrent")
                .selectors(selectMethod(FaultInjectionFixture.class.getName() + "#leakyErrorPath" + LOADED_KEXT),
                        selectMethod(FaultInjectionFixture.class.getName() + "#carefulErrorPaths" + LOADED_KEXT))
                .execute();

        results.testEvents().assertStatistics(stats -> stats.started(8).succeeded(7).failed(1));
        Event failed = results.testEvents().failed().list().get(0);
        assertThat(failed.getTestDescriptor().getDisplayName()).startsWith("fail-nth 2 of 3: kalloc at LeakyErrorPathKext");
    }
}
