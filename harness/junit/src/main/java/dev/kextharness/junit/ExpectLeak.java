package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kpi.Kext;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The test passes only if a kext leaks at unload as stated (for teaching, and for the leaking twin
 * of a balanced sample). The kernel then unloads silently, as XNU does, and the extension judges
 * instead: each expectation selects outstanding allocations by kext, call site and family, and
 * must find {@link #count()} of them (at least one for {@link #ANY}); any outstanding allocation
 * that no expectation selects still fails the test. Repeat the annotation to expect leaks at
 * several sites:
 *
 * <pre>
 * &#64;ExpectLeak(kext = LeakyKext.class, site = "LeakyKext.start", count = 1)
 * &#64;ExpectLeak(kext = LeakyKext.class, family = Family.OSMALLOC_TAG)
 * </pre>
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(ExpectLeaks.class)
public @interface ExpectLeak {

    /** Any count of outstanding allocations, as long as there is at least one. */
    int ANY = -1;

    /** The kext expected to leak; {@code Kext.class} (the default) for any kext. */
    Class<? extends Kext> kext() default Kext.class;

    /**
     * Where the leaked allocations were made, as the leak report's {@code at} line names it:
     * {@code "Class.method"}, {@code "File.java:line"} or {@code "Class.method(File.java:line)"}
     * (the class by its simple or binary name); empty for any call site.
     */
    String site() default "";

    /** The allocator families of the leaked allocations; none given for any family. */
    Family[] family() default {};

    /** Exactly how many allocations the selection leaves outstanding, or {@link #ANY}. */
    int count() default ANY;
}
