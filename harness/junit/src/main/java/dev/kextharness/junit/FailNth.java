package dev.kextharness.junit;

import dev.kextharness.kernel.fault.FaultPlan;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kpi.Kext;
import org.apiguardian.api.API;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Fails the n-th allocation the test's kexts make, after Linux's {@code fail-nth}: that call of
 * {@code _MALLOC}, {@code kalloc}, {@code OSMalloc}, {@code IOMalloc}... returns NULL without
 * allocating, once; every other allocation succeeds. Counting covers the whole test, the kexts'
 * start and stop routines included, and can be narrowed to some kexts and some allocator families.
 * The test then checks the outcome it expects (a start that fails, an error code), and the
 * extension checks for leaks as always. If the test never makes the n-th allocation it fails:
 * the annotation would test nothing.
 *
 * <pre>
 * &#64;Test
 * &#64;FailNth(value = 2, family = Family.KALLOC)
 * void startFailsCleanlyWithoutItsTable(Kernel kernel) {
 *     assertThatThrownBy(() -&gt; kernel.kextload(MyKext.class)).isInstanceOf(KextLoadException.class);
 * }
 * </pre>
 *
 * <p>Stricter than XNU: a blocking allocation ({@code M_WAITOK}, {@code kalloc}, {@code OSMalloc},
 * {@code IOMalloc}) fails too, although XNU waits for memory rather than return NULL for a size
 * it can satisfy. To run a test once per allocation, use {@link FailEachAllocation}.
 *
 * <p>Counting the n-th allocation of the whole test breaks silently when a start routine gains an
 * allocation; name the {@link #site()} or {@link #function()} and the {@link #phase()} instead:
 *
 * <pre>
 * &#64;Test
 * &#64;FailNth(function = "OSMalloc", site = "MyKext.start", phase = FailNth.Phase.START)
 * void startFailsCleanlyWithoutItsBuffer(Kernel kernel) { ... }
 * </pre>
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface FailNth {

    /** Which allocation fails, counting from 1 among those the other attributes select; default the first. */
    int value() default 1;

    /**
     * Count only allocations made at this call site, written as the report's {@code at} line names
     * it: {@code "Class.method"}, {@code "File.java:line"} or {@code "Class.method(File.java:line)"};
     * empty for any site. Naming the site keeps the test right when other allocations come and go.
     */
    String site() default "";

    /** Count only calls of this allocating KPI function ({@code "OSMalloc"}, {@code "kalloc"}); empty for any. */
    String function() default "";

    /** Count only allocations made in this phase of the kexts' lives; default any. */
    Phase phase() default Phase.ANY;

    /** Where in a kext's life an allocation is counted. */
    @API(status = API.Status.EXPERIMENTAL, since = "0.1")
    enum Phase {
        /** Every allocation of the test, from the first kextload on. */
        ANY(FaultPlan.Phase.ANY),
        /** Allocations made while a kext loads and starts ({@code kextload}, {@code @LoadKext}). */
        START(FaultPlan.Phase.START),
        /** Allocations made by the test body's calls into loaded kexts (services, sysctl, user processes). */
        TEST(FaultPlan.Phase.RUNNING),
        /** Allocations made while a kext stops ({@code kextunload}, and the unloads after the test). */
        STOP(FaultPlan.Phase.STOP);

        private final FaultPlan.Phase kernelPhase;

        Phase(FaultPlan.Phase kernelPhase) {
            this.kernelPhase = kernelPhase;
        }

        FaultPlan.Phase kernelPhase() {
            return kernelPhase;
        }
    }

    /** Count only the allocations of these kexts; none given for every kext. */
    Class<? extends Kext>[] kext() default {};

    /** Count only allocations of these families; none given for every allocator. */
    Family[] family() default {};
}
