package dev.kextharness.junit;

import org.apiguardian.api.API;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestPlan;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lists the configuration parameters of the test plans being executed, so that an unknown
 * {@code kextharness.*} key is an error wherever it was given. JUnit's extension API looks
 * parameters up by key only; the launcher's test plan can list them, including those a build tool
 * passes to the launcher directly (surefire's {@code configurationParameters}, the console
 * launcher's {@code --config}). The launcher registers this listener through
 * {@code ServiceLoader}; it is not for direct use.
 *
 * <p>Keys are kept per running test plan and merged, so that a launcher started inside a test
 * (as the harness's own tests do) adds its keys without hiding the outer run's. Two unrelated
 * launchers running at once in one JVM would see each other's keys.
 */
@API(status = API.Status.INTERNAL, since = "0.1")
public final class LauncherConfigurationKeys implements TestExecutionListener {
    private static final Map<TestPlan, Set<String>> RUNNING = new ConcurrentHashMap<>();

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
        RUNNING.put(testPlan, Set.copyOf(testPlan.getConfigurationParameters().keySet()));
    }

    @Override
    public void testPlanExecutionFinished(TestPlan testPlan) {
        RUNNING.remove(testPlan);
    }

    /** The configuration keys of every test plan running now. */
    static Set<String> keys() {
        Set<String> keys = new HashSet<>();
        RUNNING.values().forEach(keys::addAll);
        return keys;
    }
}
