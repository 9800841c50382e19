package dev.kextharness.junit;

import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kpi.Kext;
import org.apiguardian.api.API;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The test passes only if a kext's unload reports this harness finding (a misuse real XNU
 * accepts silently): a same-bucket {@code kfree} of another size, a free by another family, an OID
 * left registered. As with {@link ExpectLeak}, the kernel then unloads silently and the extension
 * judges: each expectation must find {@link #count()} findings of its {@link #kind()} (at least
 * one for {@link #ANY}) at its site, and a finding no expectation selects, or a leak no
 * {@link ExpectLeak} selects, still fails the test. Repeat it for several findings; combine it
 * with {@link ExpectLeak} for a kext that does both.
 *
 * <pre>
 * &#64;Test
 * &#64;ExpectFinding(kind = Finding.Kind.SIZE_MISMATCH, site = "WrongSizeKext.stop")
 * void theSameBucketKfreeIsCaught(&#64;LoadKext(WrongSizeKext.class) LoadedKext kext) {
 * }
 * </pre>
 *
 * The site is the finding's own call site (the free, for a bad free), written as
 * {@link ExpectLeak#site()} is.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(ExpectFindings.class)
public @interface ExpectFinding {

    /** Any count of findings, as long as there is at least one. */
    int ANY = -1;

    /** The kind of finding expected. */
    Finding.Kind kind();

    /**
     * Where the finding was made, as the report's {@code at} line names it: {@code "Class.method"},
     * {@code "File.java:line"} or {@code "Class.method(File.java:line)"}; empty for any site.
     */
    String site() default "";

    /** The kext expected to break the rule; {@code Kext.class} (the default) for any kext. */
    Class<? extends Kext> kext() default Kext.class;

    /** Exactly how many such findings, or {@link #ANY}. */
    int count() default ANY;
}
