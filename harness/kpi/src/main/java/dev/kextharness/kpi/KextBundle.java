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

    /**
     * The KPI libraries the kext links against, as its {@code OSBundleLibraries} names them: a
     * symbol none of them exports fails the link. The default is the public four; name
     * {@link #KPI_UNSUPPORTED} to call {@code kalloc} or {@code kfree}.
     */
    String[] libraries() default {KPI_BSD, KPI_LIBKERN, KPI_MACH, KPI_IOKIT};

    /** {@code com.apple.kpi.bsd}: BSDKernel.exports ({@code _MALLOC}, {@code proc_find}, sysctl). */
    String KPI_BSD = "com.apple.kpi.bsd";
    /** {@code com.apple.kpi.libkern}: Libkern.exports ({@code OSMalloc}, {@code printf}, {@code bzero}, OSAtomic). */
    String KPI_LIBKERN = "com.apple.kpi.libkern";
    /** {@code com.apple.kpi.mach}: Mach.exports ({@code current_task}). */
    String KPI_MACH = "com.apple.kpi.mach";
    /** {@code com.apple.kpi.iokit}: IOKit.exports ({@code IOMalloc}, {@code IOLog}). */
    String KPI_IOKIT = "com.apple.kpi.iokit";
    /** {@code com.apple.kpi.unsupported}: Unsupported.exports ({@code kalloc}, {@code kfree}); not for shipping kexts. */
    String KPI_UNSUPPORTED = "com.apple.kpi.unsupported";
    /** {@code com.apple.kpi.private}: Private.exports, for Apple's own kexts. */
    String KPI_PRIVATE = "com.apple.kpi.private";
    /** {@code com.apple.kpi.dsep}: MACFramework.exports. */
    String KPI_DSEP = "com.apple.kpi.dsep";
}
