package dev.kextharness.junit;

import dev.kextharness.kernel.Kernel;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.util.List;

/**
 * One test's kernel and what the test expects of it, kept in the test's
 * {@code ExtensionContext.Store}; JUnit closes it when the test's context ends.
 */
final class TestKernel implements AutoCloseable {
    private final Kernel kernel;
    private final List<LeakExpectation> expectLeaks;
    private final List<FindingExpectation> expectFindings;
    private final ExpectPanic expectPanic;
    private FaultRun faultRun;
    private String faultSource;

    TestKernel(Kernel kernel, List<LeakExpectation> expectLeaks, List<FindingExpectation> expectFindings,
               ExpectPanic expectPanic) {
        this.kernel = kernel;
        this.expectLeaks = List.copyOf(expectLeaks);
        this.expectFindings = List.copyOf(expectFindings);
        this.expectPanic = expectPanic;
    }

    Kernel kernel() {
        return kernel;
    }

    /** The test's {@code @ExpectLeak}s; empty if it expects no leak. */
    List<LeakExpectation> expectLeaks() {
        return expectLeaks;
    }

    /** The test's {@code @ExpectFinding}s; empty if it expects no finding. */
    List<FindingExpectation> expectFindings() {
        return expectFindings;
    }

    /** The test's {@code @ExpectPanic}, or null. */
    ExpectPanic expectPanic() {
        return expectPanic;
    }

    /** Arms the kernel's fault injector for this test; {@code source} names the annotation asking, for errors. */
    void armFaults(FaultRun run, String source) {
        if (faultRun != null) {
            throw new ExtensionConfigurationException(source + " and " + faultSource + " both inject faults into "
                    + "the same test: use one of them");
        }
        faultRun = run;
        faultSource = source;
        kernel.faults().arm(run.plan());
    }

    /** The test's fault injection, or null. */
    FaultRun faultRun() {
        return faultRun;
    }

    @Override
    public void close() {
        kernel.close();
    }
}
