package dev.kextharness.junit;

import dev.kextharness.kpi.Kext;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The test passes only if this kext leaks at unload (for teaching, and for the leaking twin of a
 * balanced sample). The kernel then unloads silently, as XNU does, and the extension judges each
 * kext itself: the expected one must leak as stated, any other leak still fails the test.
 *
 * <p>Stability: experimental.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ExpectLeak {

    /** Any count of outstanding allocations, as long as there is at least one. */
    int ANY = -1;

    /** The kext expected to leak. */
    Class<? extends Kext> kext();

    /** Exactly how many allocations it leaves outstanding, or {@link #ANY}. */
    int count() default ANY;
}
