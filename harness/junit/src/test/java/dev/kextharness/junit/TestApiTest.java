package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.TestApiFixture;
import dev.kextharness.kernel.kext.KextFindingError;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.ledger.Finding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.testkit.engine.EngineExecutionResults;

import java.util.Map;

import static dev.kextharness.junit.Fixtures.reportValues;
import static dev.kextharness.junit.Fixtures.run;
import static dev.kextharness.junit.Fixtures.throwable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

/** @ExpectFinding, findings as their own failure, @FailNth by function, site and phase, suppressions. */
class TestApiTest {

    private final EngineExecutionResults results = run(TestApiFixture.class);

    private Throwable failureOf(String method) {
        return throwable(results.testEvents().failed().filter(e ->
                e.getTestDescriptor().getDisplayName().startsWith(method + "(")).findFirst().orElseThrow());
    }

    @Test
    void anExpectedFindingAtItsSitePasses() {
        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test("expectedFindingPasses"), finishedSuccessfully()))
                .haveExactly(1, event(test("expectedFindingAndLeak"), finishedSuccessfully()));
    }

    @Test
    void aMissingFindingFailsAndSaysSo() {
        assertThat(failureOf("expectedFindingMissing")).isExactlyInstanceOf(AssertionError.class)
                .hasMessage("@ExpectFinding(kind = SIZE_MISMATCH): expected at least 1 finding at unload, but found 0; "
                        + "no kext broke a pairing rule (are findings turned off?)");
    }

    @Test
    void aFindingIsItsOwnFailureTypeWithEverySiteItKnows() {
        Throwable failure = failureOf("unexpectedFinding");
        assertThat(failure).isInstanceOf(KextFindingError.class).isNotInstanceOf(KextLeakError.class)
                .hasMessageStartingWith("KEXT FINDINGS: dev.kextharness.fixture.wrongsize: 1 finding at unload");
        KextFindingError finding = (KextFindingError) failure;
        assertThat(finding.findings()).extracting(Finding::kind).containsExactly(Finding.Kind.SIZE_MISMATCH);
        assertThat(finding.sites()).extracting(s -> s.function() + " in " + s.methodName())
                .containsExactly("kfree in stop", "kalloc in start");
    }

    @Test
    void aFindingOfAnotherKindFailsBothWays() {
        Throwable failure = failureOf("findingOfAnotherKind");
        assertThat(failure).isInstanceOf(KextFindingError.class);
        assertThat(failure.getSuppressed()).extracting(Throwable::getMessage)
                .anyMatch(m -> m.startsWith("@ExpectFinding(kind = CROSS_FAMILY_FREE): expected at least 1 finding")
                        && m.contains("SIZE_MISMATCH in dev.kextharness.fixture.wrongsize"));
    }

    @Test
    void aLeakBesideAnExpectedFindingStillFailsAsALeak() {
        assertThat(failureOf("expectedFindingButALeakToo")).isInstanceOf(KextLeakError.class)
                .hasMessageStartingWith("KEXT LEAK: dev.kextharness.fixture.leaky");
    }

    @Test
    void failNthCanNameTheFunctionSiteAndPhase() {
        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test("failNthByFunctionAndSite"), finishedSuccessfully()))
                .haveExactly(1, event(test("failNthInTheTestBodyOnly"), finishedSuccessfully()));
        assertThat(reportValues(results, FaultRun.INJECTED_ENTRY))
                .anyMatch(v -> v.contains("kalloc at CarefulKext.start("))
                .anyMatch(v -> v.contains("_MALLOC at CarefulKext.allocate("));
    }

    @Test
    void failNthInAPhaseWithoutAllocationsSaysNothingFailed() {
        assertThat(failureOf("failNthInAStopThatAllocatesNothing"))
                .hasMessageStartingWith("@FailNth(value = 1, phase = STOP): allocation 1 was never made; the test made 0 "
                        + "allocations");
    }

    @Test
    void failNthOfAFunctionThatDoesNotAllocateIsAConfigurationError() {
        results.testEvents().assertThatEvents().haveExactly(1, event(test("failNthOfAFunctionThatDoesNotAllocate"),
                finishedWithFailure(instanceOf(ExtensionConfigurationException.class),
                        message(m -> m.contains("'strlen' is not an allocating KPI function")))));
    }

    @Test
    void aSuppressedFindingPassesAndTheReportSaysWhichSuppressionTookIt() {
        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test("suppressedFinding"), finishedSuccessfully()));
        assertThat(reportValues(results, KextHarnessExtension.SUPPRESSED_ENTRY))
                .anyMatch(v -> v.contains("1 finding by 'wrongsize-stop'"));
    }

    @Test
    void aBrokenOrMissingSuppressionsFileIsAConfigurationError() {
        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test("brokenSuppressions"), finishedWithFailure(
                        instanceOf(ExtensionConfigurationException.class),
                        message(m -> m.contains("broken.supp:1") && m.contains("has kind 'leaks'")))))
                .haveExactly(1, event(test("missingSuppressions"), finishedWithFailure(
                        instanceOf(ExtensionConfigurationException.class),
                        message(m -> m.contains("'kextharness-fixtures/missing.supp'") && m.contains("not found")))));
    }

    @Test
    void theSuppressionsKeyIsReadFromTheConfiguration() {
        EngineExecutionResults configured = Fixtures.run(TestApiFixture.class,
                Map.of(ConfigurationKeys.SUPPRESSIONS, "kextharness-fixtures/wrongsize.supp"));
        configured.testEvents().assertThatEvents()
                .haveExactly(1, event(test("unexpectedFinding"), finishedSuccessfully()));
    }
}
