package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kernel.kext.LeakPolicy;
import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Runs each test of the class (or the annotated method) against a freshly booted simulated
 * kernel, and fails the test when a kext it loaded leaks at unload.
 *
 * <p>Each attribute takes at most one value; left empty, it comes from the configuration
 * parameters ({@link ConfigurationKeys}), else from the defaults: {@link LeakPolicy#FAIL}, the kernel's
 * 32 GiB Mac, findings on. They are arrays only so that "not given" can be told apart from the
 * default: write {@code @KextTest(leakPolicy = LeakPolicy.PANIC)} as usual. An attribute on a
 * method beats the same attribute on its class.
 */
@API(status = API.Status.STABLE, since = "0.1")
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@ExtendWith(KextHarnessExtension.class)
public @interface KextTest {

    /** What an unload with allocations outstanding does; default {@link LeakPolicy#FAIL}. */
    LeakPolicy[] leakPolicy() default {};

    /** Simulated physical memory, such as {@code "8G"} or {@code "512M"}; default the kernel's 32 GiB. */
    String physicalMemory() default "";

    /** Whether harness findings (misuse XNU accepts silently) count against a kext; default true. */
    boolean[] findings() default {};

    /**
     * A suppressions file of leaks and findings to accept (a path, or a resource on the test class
     * path); default {@code kextharness.suppressions}, else none.
     */
    String suppressions() default "";
}
