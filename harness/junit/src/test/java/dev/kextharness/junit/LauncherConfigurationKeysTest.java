package dev.kextharness.junit;

import dev.kextharness.junit.fixtures.BalancedFixture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/** Keys passed to the launcher directly, as a build tool does, through the service-loaded listener. */
class LauncherConfigurationKeysTest {

    private static TestExecutionSummary launch(Map<String, String> configuration) {
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        LauncherFactory.create().execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(BalancedFixture.class))
                .configurationParameters(configuration)
                .build(), summary);
        return summary.getSummary();
    }

    @Test
    void aMisspeltKeyGivenToTheLauncherIsAConfigurationError() {
        TestExecutionSummary summary = launch(Map.of("kextharness.leakPolisy", "fail"));

        assertThat(summary.getFailures()).singleElement()
                .extracting(TestExecutionSummary.Failure::getException)
                .isInstanceOf(ExtensionConfigurationException.class)
                .extracting(Throwable::getMessage).asString()
                .startsWith("Unknown configuration parameter kextharness.leakPolisy=fail: the Kext Harness reads only "
                        + "kextharness.leakPolicy");
        assertThat(LauncherConfigurationKeys.keys()).doesNotContain("kextharness.leakPolisy"); // the run is over
    }

    @Test
    void knownKeysGivenToTheLauncherPass() {
        TestExecutionSummary summary = launch(Map.of("kextharness.leakPolicy", "fail"));

        assertThat(summary.getTestsSucceededCount()).isEqualTo(1);
        assertThat(summary.getFailures()).isEmpty();
    }
}
