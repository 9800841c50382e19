package dev.kextharness.junit;

import org.apiguardian.api.API;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The test passes only if the kernel panics, during the test or while the extension unloads its
 * kexts, with a panic string containing {@link #contains()}. A {@code KernelPanic} thrown by the
 * test method is then its expected outcome, not a failure.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface ExpectPanic {

    /** Text the panic string must contain; empty accepts any panic. */
    String contains() default "";
}
