package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.BalancedFixture;
import dev.kextharness.junit.fixtures.BuilderFixture;
import dev.kextharness.junit.fixtures.ConfigurationFixture;
import dev.kextharness.junit.fixtures.ExpectationFixture;
import dev.kextharness.junit.fixtures.LeakingFixture;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.panic.KernelPanic;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.engine.reporting.FileEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.Event;

import java.util.List;
import java.util.Map;

import static dev.kextharness.junit.Fixtures.content;
import static dev.kextharness.junit.Fixtures.failures;
import static dev.kextharness.junit.Fixtures.fileName;
import static dev.kextharness.junit.Fixtures.files;
import static dev.kextharness.junit.Fixtures.reportValues;
import static dev.kextharness.junit.Fixtures.run;
import static dev.kextharness.junit.Fixtures.runWithoutOutputDirectory;
import static dev.kextharness.junit.Fixtures.throwable;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

class KextHarnessExtensionTest {

    @Test
    void balancedKextPasses() {
        EngineExecutionResults results = run(BalancedFixture.class);

        results.testEvents().assertStatistics(stats -> stats.started(1).succeeded(1).failed(0));
        assertThat(reportValues(results, KextHarnessExtension.LEAK_ENTRY)).isEmpty();
        assertThat(files(results)).isEmpty();
    }

    @Test
    void leakFailsTheTestWithTheLeakReport() {
        EngineExecutionResults results = run(LeakingFixture.class);

        results.testEvents().assertThatEvents().haveExactly(1, event(test("leaks"),
                finishedWithFailure(instanceOf(KextLeakError.class),
                        message(m -> m.startsWith("KEXT LEAK: dev.kextharness.fixture.leaky: 2 allocations")))));
        assertThat(reportValues(results, KextHarnessExtension.LEAK_ENTRY))
                .hasSize(2)
                .allSatisfy(report -> assertThat(report).startsWith("KEXT LEAK: dev.kextharness.fixture.leaky"));
        assertThat(reportValues(results, KextHarnessExtension.LEAK_JSON_ENTRY))
                .allSatisfy(json -> assertThat(json).contains("\"kext\" : \"dev.kextharness.fixture.leaky\""));
    }

    @Test
    void leakReportIsPublishedAsTextAndJsonFilesNamedForTheKext() {
        EngineExecutionResults results = run(LeakingFixture.class);

        List<FileEntry> files = files(results);
        assertThat(files).extracting(Fixtures::fileName).containsExactlyInAnyOrder(
                "dev.kextharness.fixture.leaky-leak.txt", "dev.kextharness.fixture.leaky-leak.json",
                "dev.kextharness.fixture.leaky-leak.txt", "dev.kextharness.fixture.leaky-leak.json");
        List<FileEntry> text = files.stream().filter(f -> fileName(f).endsWith(".txt")).toList();
        List<FileEntry> json = files.stream().filter(f -> fileName(f).endsWith(".json")).toList();
        assertThat(text).allSatisfy(f -> assertThat(f.getMediaType()).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/plain")));
        assertThat(json).allSatisfy(f -> assertThat(f.getMediaType()).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/json")));
        // Each file holds exactly what its report entry holds.
        assertThat(text).extracting(Fixtures::content)
                .containsExactlyInAnyOrderElementsOf(reportValues(results, KextHarnessExtension.LEAK_ENTRY));
        assertThat(json).extracting(Fixtures::content)
                .containsExactlyInAnyOrderElementsOf(reportValues(results, KextHarnessExtension.LEAK_JSON_ENTRY));
    }

    @Test
    void panicLogIsPublishedAsAKernelPanicFile() {
        EngineExecutionResults results = run(ExpectationFixture.class);

        List<FileEntry> panics = files(results).stream().filter(f -> fileName(f).endsWith(".panic")).toList();
        assertThat(panics).isNotEmpty().allSatisfy(f -> {
            assertThat(fileName(f)).matches("Kernel-\\d{4}-\\d{2}-\\d{2}-\\d{6}\\.panic");
            assertThat(content(f)).contains("panic(");
        });
        assertThat(panics).extracting(Fixtures::content)
                .containsExactlyInAnyOrderElementsOf(reportValues(results, KextHarnessExtension.PANIC_ENTRY));
    }

    @Test
    void runWithoutAnOutputDirectoryKeepsTheVerdictAndSaysWhichFilesAreMissing() {
        EngineExecutionResults results = runWithoutOutputDirectory(LeakingFixture.class);

        results.testEvents().assertThatEvents().haveExactly(1, event(test("leaks"),
                finishedWithFailure(instanceOf(KextLeakError.class))));
        assertThat(files(results)).isEmpty();
        assertThat(reportValues(results, KextHarnessExtension.LEAK_ENTRY)).hasSize(2);
        assertThat(reportValues(results, KextHarnessExtension.FILE_NOT_PUBLISHED_ENTRY)).hasSize(4)
                .anySatisfy(v -> assertThat(v).startsWith("dev.kextharness.fixture.leaky-leak.txt: ")
                        .contains("Writing outputs is disabled"));
    }

    @Test
    void ownFailureStaysPrimaryAndTheLeakIsSuppressed() {
        EngineExecutionResults results = run(LeakingFixture.class);

        Event failed = results.testEvents().failed().filter(e -> e.getTestDescriptor().getDisplayName()
                .startsWith("failsOnItsOwnAndLeaks")).findFirst().orElseThrow();
        Throwable failure = throwable(failed);
        assertThat(failure).hasMessage("the test's own failure");
        assertThat(failure.getSuppressed()).singleElement()
                .isInstanceOf(KextLeakError.class)
                .extracting(Throwable::getMessage).asString().startsWith("KEXT LEAK:");
    }

    @Test
    void expectationsPassOnlyWhenMet() {
        EngineExecutionResults results = run(ExpectationFixture.class);

        results.testEvents().succeeded().stream().forEach(e ->
                assertThat(e.getTestDescriptor().getDisplayName()).startsWith("passes"));
        results.testEvents().failed().stream().forEach(e ->
                assertThat(e.getTestDescriptor().getDisplayName()).startsWith("fails"));
        results.testEvents().assertStatistics(stats -> stats.succeeded(3).failed(6));
        results.testEvents().assertThatEvents()
                .haveExactly(1, event(test("passesExpectedLeak"), finishedSuccessfully()))
                .haveExactly(1, event(test("passesExpectedPanic"), finishedSuccessfully()))
                .haveExactly(1, event(test("passesLeakPanicInTeardown"), finishedSuccessfully()))
                .haveExactly(1, event(test("failsWrongLeakCount"), finishedWithFailure(
                        message(m -> m.contains("@ExpectLeak(kext = LeakyKext.class, count = 1): expected 1 allocation outstanding "
                                + "at unload, but found 2")))))
                .haveExactly(1, event(test("failsLeakThatDoesNotHappen"), finishedWithFailure(
                        message(m -> m.contains("but found 0; no kext left anything behind")))))
                .haveExactly(1, event(test("failsPanicWithOtherString"), finishedWithFailure(
                        message(m -> m.contains("does not contain the expected text")))))
                .haveExactly(1, event(test("failsPanicThatDoesNotHappen"), finishedWithFailure(
                        message(m -> m.contains("expected the kernel to panic, but it did not")))))
                .haveExactly(1, event(test("failsUnexpectedPanic"), finishedWithFailure(instanceOf(KernelPanic.class))))
                .haveExactly(1, event(test("failsLeakPanicInTeardown"), finishedWithFailure(instanceOf(KernelPanic.class),
                        message(m -> m.contains("KEXT LEAK")))));
        assertThat(reportValues(results, KextHarnessExtension.PANIC_ENTRY)).isNotEmpty()
                .allSatisfy(log -> assertThat(log).contains("panic("));
    }

    @Test
    void builderSettingsApply() {
        EngineExecutionResults results = run(BuilderFixture.class);

        results.testEvents().assertStatistics(stats -> stats.succeeded(1).failed(0));
        assertThat(reportValues(results, KextHarnessExtension.LEAK_ENTRY)).singleElement().asString()
                .startsWith("KEXT LEAK: dev.kextharness.fixture.leaky");
    }

    @Test
    void configurationParametersApply() {
        EngineExecutionResults results = run(ConfigurationFixture.class, Map.of(
                "kextharness.leakPolicy", "XNU",
                "kextharness.physicalMemory", "8G",
                "kextharness.findings", "false"));

        results.testEvents().assertStatistics(stats -> stats.succeeded(2).failed(0));
        assertThat(reportValues(results, "leakPolicy")).containsExactly("XNU");
        assertThat(reportValues(results, "findings")).containsExactly("false");
        assertThat(reportValues(results, "physicalMemory"))
                .containsExactlyInAnyOrder(Long.toString(8L << 30), Long.toString(512L << 20));
    }

    @Test
    void defaultsAreFailAndTheKernelsOwn() {
        EngineExecutionResults results = run(ConfigurationFixture.class);

        assertThat(reportValues(results, "leakPolicy")).containsExactly("FAIL");
        assertThat(reportValues(results, "findings")).containsExactly("true");
    }

    @Test
    void badValueIsAConfigurationErrorNamingKeyValueAndAllowedValues() {
        EngineExecutionResults results = run(BalancedFixture.class, Map.of("kextharness.leakPolicy", "panik"));

        assertThat(failures(results)).singleElement(InstanceOfAssertFactories.THROWABLE)
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("kextharness.leakPolicy")
                .hasMessageContaining("'panik'")
                .hasMessageContaining("panic|fail|xnu");
    }

    @Test
    void tooLittleMemoryIsAConfigurationError() {
        EngineExecutionResults results = run(BalancedFixture.class, Map.of("kextharness.physicalMemory", "100M"));

        assertThat(failures(results)).singleElement(InstanceOfAssertFactories.THROWABLE)
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("kextharness.physicalMemory")
                .hasMessageContaining("'100M'")
                .hasMessageContaining("256");
    }
}
