package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kpi.Kext;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a {@code LoadedKext} parameter of a test or {@code @BeforeEach} method: loads this kext into
 * the test's kernel before the method runs. The extension unloads it after the test and judges
 * what it left behind.
 */
@API(status = API.Status.STABLE, since = "0.1")
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface LoadKext {

    /** The kext class: implements {@link Kext} and carries {@code @KextBundle}. */
    Class<? extends Kext> value();
}
