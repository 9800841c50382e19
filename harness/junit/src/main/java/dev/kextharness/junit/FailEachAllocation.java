package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kpi.Kext;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs the test once per allocation point, failing each allocation in turn: the systematic use
 * of Linux's {@code fail-nth}. The first invocation is a counting run that fails nothing and
 * records every allocation the test's kexts make, with its call site; then, for n = 1..N, the
 * n-th invocation fails the n-th allocation (NULL, as {@link FailNth}) and is named for it:
 *
 * <pre>
 * counting run: no allocation failed
 * fail-nth 1 of 3: _MALLOC at MyKext.start(MyKext.java:21)
 * fail-nth 2 of 3: kalloc at MyKext.start(MyKext.java:25)
 * ...
 * </pre>
 *
 * Each invocation boots a fresh kernel and ends with the usual verdict, so every error path is
 * checked for leaks; a kext whose error path forgets a free fails exactly the invocation that
 * took that path, with the leak report. Under an injected failure the test's own exceptions
 * (a start that failed, an assertion on a result) are what the error path is expected to cause:
 * they are published as the report entry {@code kextharness.faultOutcome} and do not fail the
 * invocation; a panic (a NULL dereference, say) or a leak does. The test must allocate the same
 * way every run, or the invocation whose allocation moved fails and says so.
 *
 * <p>Each invocation is named for the allocation it fails ({@code fail-nth 2 of 3: kalloc at
 * MyKext.start(MyKext.java:28)}), and IDEs, Gradle and the console launcher show that name.
 * Maven Surefire's XML report does not by default: it writes JUnit's legacy reporting name, which
 * Jupiter fixes to {@code method(Params)[n]} for every test-template invocation (no extension can
 * change it). Ask Surefire for the display names instead:
 *
 * <pre>
 * &lt;statelessTestsetReporter implementation="org.apache.maven.plugin.surefire.extensions.junit5.JUnit5Xml30StatelessReporter"&gt;
 *   &lt;usePhrasedTestCaseMethodName&gt;true&lt;/usePhrasedTestCaseMethodName&gt;
 * &lt;/statelessTestsetReporter&gt;
 * </pre>
 *
 * A failing invocation's message names its allocation either way.
 *
 * <p>Use it instead of {@code @Test}, on a test of a {@link KextTest} class. The invocations run
 * one after another, even under parallel execution: each needs the count of the one before.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@TestTemplate
@ExtendWith(FailEachAllocationProvider.class)
@Execution(ExecutionMode.SAME_THREAD)
public @interface FailEachAllocation {

    /** Count only the allocations of these kexts; none given for every kext. */
    Class<? extends Kext>[] kext() default {};

    /** Count only allocations of these families; none given for every allocator. */
    Family[] family() default {};
}
