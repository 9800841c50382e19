package dev.kextharness.kernel.kext;

import java.net.URL;
import java.util.List;

/**
 * Which classes are kext code. A kext is every class its kext class can reach, whatever its
 * package or jar, except the JDK (checked against {@link JdkAllowlist}), the KPI facade (checked
 * member by member) and the harness with its libraries (refused). Kext code is read, checked and
 * defined in the kext's own class loader, so each load runs it with fresh static state.
 */
final class KextCode {
    /** The KPI facade: shared by every kext and the kernel, never the kext's own. */
    static final String KPI = "dev/kextharness/kpi/";
    static final String HARNESS = "dev/kextharness/";

    /**
     * Packages of the libraries the harness runs on (and of the test runners around it). A kext cannot
     * link against them, as a kext cannot link against XNU's internals.
     */
    static final List<String> HARNESS_LIBRARIES = List.of("net/bytebuddy/", "com/fasterxml/jackson/",
            "com/tngtech/archunit/", "org/junit/", "org/opentest4j/", "org/apiguardian/", "org/assertj/",
            "org/mockito/", "org/objenesis/", "org/slf4j/", "picocli/", "org/knowm/xchart/", "de/erichseifert/",
            "org/openjdk/jmh/", "org/apache/maven/surefire/", "org/apache/maven/shared/", "org/hamcrest/");

    private KextCode() {
    }

    /** True for a class of a harness library (not the harness's own dev.kextharness classes). */
    static boolean isHarnessLibrary(String internalName) {
        for (String prefix : HARNESS_LIBRARIES) {
            if (internalName.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** True for a class of the JDK as this loader sees it: java.*, or anything the runtime image holds. */
    static boolean isJdk(String internalName, ClassLoader loader) {
        if (internalName.startsWith("java/")) {
            return true;
        }
        URL url = loader.getResource(internalName + ".class");
        return url != null && "jrt".equals(url.getProtocol());
    }

    /**
     * The bytes of a library class the kext reaches through {@code loader}: any class that is neither
     * the JDK, nor the KPI, nor the harness and its libraries. Null if it is one of those or absent.
     */
    static byte[] libraryBytes(ClassLoader loader, String internalName) {
        if (internalName.startsWith(HARNESS) || internalName.startsWith("java/") || isHarnessLibrary(internalName)) {
            return null;
        }
        URL url = loader.getResource(internalName + ".class");
        if (url == null || "jrt".equals(url.getProtocol())) {
            return null;
        }
        return KextSource.read(url);
    }
}
