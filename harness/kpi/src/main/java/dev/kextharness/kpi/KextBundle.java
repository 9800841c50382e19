package dev.kextharness.kpi;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A kext's bundle identity: what its Info.plist says ({@code CFBundleIdentifier},
 * {@code CFBundleVersion}, {@code OSBundleLibraries}).
 *
 * <p>Stability: stable.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface KextBundle {

    /** The bundle identifier, such as {@code cn.junkman.kext-memleak}. */
    String id();

    /** The bundle version, such as {@code 1.0}. */
    String version() default "1.0";

    /** Bundle identifiers of the kexts this one links against; they must be loaded first. */
    String[] dependencies() default {};
}
