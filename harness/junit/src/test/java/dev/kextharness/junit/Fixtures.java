package dev.kextharness.junit;

import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

import java.util.List;
import java.util.Map;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

/** Runs fixture test classes on the Jupiter engine, as a user's build would. */
final class Fixtures {
    private Fixtures() {
    }

    static EngineExecutionResults run(Class<?> fixture) {
        return run(fixture, Map.of());
    }

    static EngineExecutionResults run(Class<?> fixture, Map<String, String> configuration) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameters(configuration)
                .selectors(selectClass(fixture))
                .execute();
    }

    /** Runs one method of a fixture, given as {@code Class#method} with its parameter types. */
    static EngineExecutionResults runMethod(Class<?> fixture, String methodWithParameters) {
        return EngineTestKit.engine("junit-jupiter")
                .selectors(selectMethod(fixture.getName() + "#" + methodWithParameters))
                .execute();
    }

    /** The throwable each failed test ended with. */
    static List<Throwable> failures(EngineExecutionResults results) {
        return results.testEvents().failed().stream()
                .map(Fixtures::throwable)
                .toList();
    }

    static Throwable throwable(Event event) {
        return event.getPayload(org.junit.platform.engine.TestExecutionResult.class)
                .flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable)
                .orElseThrow(() -> new AssertionError("no throwable in " + event));
    }

    /** The values the tests published under this key, in publishing order. */
    static List<String> reportValues(EngineExecutionResults results, String key) {
        return results.allEvents().reportingEntryPublished().stream()
                .map(e -> e.getPayload(org.junit.platform.engine.reporting.ReportEntry.class).orElseThrow())
                .map(entry -> entry.getKeyValuePairs().get(key))
                .filter(java.util.Objects::nonNull)
                .toList();
    }
}
