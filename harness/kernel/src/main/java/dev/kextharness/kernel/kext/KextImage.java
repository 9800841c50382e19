package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kext.KextLinkException.Unresolved;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A kext as the link step leaves it, independent of any kernel: its bundle, its classes with
 * their linked bytes (every class it reaches, from any package or jar), the types it shares with
 * the host, and what failed to resolve. Images are cached, so a second load of the same kext class neither reads nor
 * rewrites a class file again.
 */
final class KextImage {
    final String kextClassName;
    final ClassInfo.Bundle bundle;
    /** Why the class is not a loadable kext (no @KextBundle, no public no-argument constructor...), or null. */
    final String invalid;
    final int invalidResult;
    /** Binary name to linked class file, in the order the kext reaches them. */
    final Map<String, byte[]> classes;
    /** Binary names of the types the kext shares with its host (public interfaces and their signatures' types). */
    final Set<String> shared;
    final List<Unresolved> unresolved;

    KextImage(String kextClassName, ClassInfo.Bundle bundle, String invalid, int invalidResult,
              Map<String, byte[]> classes, Set<String> shared, List<Unresolved> unresolved) {
        this.kextClassName = kextClassName;
        this.bundle = bundle;
        this.invalid = invalid;
        this.invalidResult = invalidResult;
        this.classes = classes;
        this.shared = shared;
        this.unresolved = unresolved;
    }

    /** The linked bytes of one of the kext's classes, or null if the class is not the kext's. */
    byte[] bytes(String binaryName) {
        return classes.get(binaryName);
    }

    /** Bytes of the linked executable: what kextstat shows as its size, before rounding to pages. */
    long executableBytes() {
        long total = 0;
        for (byte[] b : classes.values()) {
            total += b.length;
        }
        return total;
    }

    boolean linked() {
        return invalid == null && unresolved.isEmpty();
    }
}
