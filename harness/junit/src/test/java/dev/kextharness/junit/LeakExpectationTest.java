package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.LeakExpectationFixture;
import dev.kextharness.kernel.kext.KextLeakError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.testkit.engine.EngineExecutionResults;

import static dev.kextharness.junit.Fixtures.run;
import static dev.kextharness.junit.Fixtures.throwable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

class LeakExpectationTest {

    private final EngineExecutionResults results = run(LeakExpectationFixture.class);

    @Test
    void expectationsBySiteFamilyAndCountPass() {
        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test("passesBySite"), finishedSuccessfully()))
                .haveExactly(1, event(test("passesByFileAndLine"), finishedSuccessfully()))
                .haveExactly(1, event(test("passesByTheReportsAtLine"), finishedSuccessfully()))
                .haveExactly(1, event(test("passesRepeated"), finishedSuccessfully()));
        results.testEvents().assertStatistics(stats -> stats.succeeded(4).failed(4));
    }

    @Test
    void aLeakNoExpectationSelectsStillFailsWithItsReport() {
        results.testEvents().assertThatEvents().haveExactly(1, event(test("failsUnexpectedSite"), finishedWithFailure(
                instanceOf(KextLeakError.class),
                message(m -> m.startsWith("KEXT LEAK: dev.kextharness.fixture.leaky: 1 allocation (8 bytes)")
                        && m.contains("at LeakyKext.allocate(") && !m.contains("at LeakyKext.start(")))));
    }

    @Test
    void anExpectationThatFindsNothingSaysWhatWasLeftBehind() {
        Throwable failure = throwable(results.testEvents().failed().filter(e ->
                e.getTestDescriptor().getDisplayName().startsWith("failsWrongFamily")).findFirst().orElseThrow());

        // The _MALLOC leak is unexpected; the missing kalloc leak comes with it.
        assertThat(failure).isInstanceOf(KextLeakError.class);
        assertThat(failure.getSuppressed()).singleElement().extracting(Throwable::getMessage).asString()
                .startsWith("@ExpectLeak(kext = LeakyKext.class, family = KALLOC): expected at least 1 allocation "
                        + "outstanding at unload, but found 0. What the kexts left behind:\n"
                        + "KEXT LEAK: dev.kextharness.fixture.leaky");
    }

    @Test
    void malformedExpectationsAreConfigurationErrors() {
        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test("failsBadSite"), finishedWithFailure(
                        instanceOf(ExtensionConfigurationException.class),
                        message("@ExpectLeak(site = \"start\"): 'start' is not a call site; write \"Class.method\", "
                                + "\"File.java:line\" or \"Class.method(File.java:line)\", as the report's "
                                + "'at' line prints it"))))
                .haveExactly(1, event(test("failsZeroCount"), finishedWithFailure(
                        instanceOf(ExtensionConfigurationException.class),
                        message(m -> m.contains("count must be at least 1")))));
    }
}
