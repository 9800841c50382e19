package dev.kextharness.junit;

import dev.kextharness.kernel.fault.FaultInjector;
import dev.kextharness.kernel.fault.FaultPlan;
import dev.kextharness.kernel.ledger.CallSite;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

import java.lang.reflect.Method;
import java.util.List;
import java.util.stream.Stream;

/**
 * The invocations of a {@link FailEachAllocation} test: a counting run, then one run per
 * allocation it counted. The stream is lazy, so the failing runs are created only after the
 * counting run has finished and its count is known; the annotation keeps them on one thread.
 */
final class FailEachAllocationProvider implements TestTemplateInvocationContextProvider {

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return context.getTestMethod().map(m -> AnnotationSupport.isAnnotated(m, FailEachAllocation.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        Method method = context.getRequiredTestMethod();
        FailEachAllocation annotation = AnnotationSupport.findAnnotation(method, FailEachAllocation.class).orElseThrow();
        FaultPlan plan = FaultRun.plan("@FailEachAllocation on " + method, annotation.kext(), annotation.family());
        CountingRun counted = new CountingRun();
        Stream<TestTemplateInvocationContext> counting = Stream.of(new Invocation(FaultRun.counting(plan), counted));
        Stream<TestTemplateInvocationContext> failing = Stream.iterate(1, n -> n + 1)
                .takeWhile(n -> n <= counted.sites().size())
                .map(n -> new Invocation(FaultRun.failing(plan, n, counted.sites().size(), counted.sites().get(n - 1)), null));
        return Stream.concat(counting, failing);
    }

    /** What the counting run found, read once it has finished. */
    private static final class CountingRun {
        private FaultInjector faults;
        private List<CallSite> sites;

        void started(FaultInjector injector) {
            this.faults = injector;
        }

        /** The allocation points in order; none if the counting run never got a kernel. */
        List<CallSite> sites() {
            if (sites == null) {
                sites = faults == null ? List.of() : faults.sites();
            }
            return sites;
        }
    }

    /** A verdict raised while JUnit resolved a {@code @LoadKext} parameter, without JUnit's wrapper. */
    private static Throwable unwrapVerdict(Throwable thrown) {
        return thrown instanceof ParameterResolutionException && thrown.getCause() != null ? thrown.getCause() : thrown;
    }

    /** One invocation: arms its fault run in the test's kernel and tolerates what the error path throws. */
    private static final class Invocation implements TestTemplateInvocationContext, BeforeEachCallback,
            TestExecutionExceptionHandler {
        private final FaultRun run;
        private final CountingRun counted;

        Invocation(FaultRun run, CountingRun counted) {
            this.run = run;
            this.counted = counted;
        }

        @Override
        public String getDisplayName(int invocationIndex) {
            return run.displayName();
        }

        @Override
        public List<Extension> getAdditionalExtensions() {
            return List.of(this);
        }

        @Override
        public void beforeEach(ExtensionContext context) {
            TestKernel test = KextHarnessExtension.testKernel(context);
            if (test == null) {
                throw new ExtensionConfigurationException("@FailEachAllocation on " + context.getRequiredTestMethod()
                        + " needs the Kext Harness: annotate the class with @KextTest, or register a "
                        + "KextHarnessExtension with @RegisterExtension");
            }
            test.armFaults(run, "@FailEachAllocation");
            if (counted != null) {
                counted.started(test.kernel().faults());
            }
        }

        @Override
        public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
            TestKernel test = KextHarnessExtension.testKernel(context);
            if (test != null && run.tolerates(throwable, test.kernel().faults())) {
                run.publishOutcome(context, test.kernel().faults(), throwable);
                return;
            }
            if (test == null) {
                throw throwable;
            }
            Throwable verdict = unwrapVerdict(throwable);
            Throwable explained = run.explain(verdict, test.kernel().faults());
            throw explained == verdict ? throwable : explained;
        }
    }
}
