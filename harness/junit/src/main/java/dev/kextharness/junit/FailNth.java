package dev.kextharness.junit;

import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kpi.Kext;

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
 * <p>Stability: experimental.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface FailNth {

    /** Which allocation fails, counting from 1. */
    int value();

    /** Count only the allocations of these kexts; none given for every kext. */
    Class<? extends Kext>[] kext() default {};

    /** Count only allocations of these families; none given for every allocator. */
    Family[] family() default {};
}
