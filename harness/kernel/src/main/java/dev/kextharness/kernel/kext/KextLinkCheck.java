package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kext.KextLinkException.Unresolved;
import dev.kextharness.kpi.Kext;
import org.apiguardian.api.API;

import java.util.List;
import java.util.Objects;

/**
 * kextload's link step without a kernel: what loading a kext would say about its classes, for
 * build-time checks such as {@code KextRules}. It runs the very check {@code load} runs (and caches
 * the linked image for it), so a kext that passes here links there, with the same words.
 *
 * <p>Stability: experimental.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
public final class KextLinkCheck {
    private KextLinkCheck() {
    }

    /**
     * The link step's verdict on a kext.
     *
     * @param kextClassName the kext class's binary name
     * @param bundleId      its {@code @KextBundle} id, or the class name if it has none
     * @param problem       why the class is not a loadable kext at all (load's own message), or null
     * @param unresolved    every symbol it uses that the kernel does not export, with where
     */
    public record Report(String kextClassName, String bundleId, String problem, List<Unresolved> unresolved) {
        public Report {
            unresolved = List.copyOf(unresolved);
        }

        /** True if {@code load} links it: a valid kext with no unresolved symbol. */
        public boolean links() {
            return problem == null && unresolved.isEmpty();
        }

        /** kxld's message for the unresolved symbols, as {@link KextLinkException} carries it; null if none. */
        public String unresolvedMessage() {
            return unresolved.isEmpty() ? null : KextMessages.unresolvedSymbols(bundleId, unresolved);
        }
    }

    /** Checks a kext compiled onto the class path. */
    public static Report check(Class<? extends Kext> kextClass) {
        return check(KextSource.of(kextClass));
    }

    /** Checks a kext from any source. */
    public static Report check(KextSource source) {
        Objects.requireNonNull(source, "source");
        KextImage image = KextLinker.link(source);
        String id = image.bundle != null && image.bundle.id() != null && !image.bundle.id().isBlank()
                ? image.bundle.id() : source.kextClassName();
        String problem = image.invalid == null ? null : KextMessages.failedToLoad(id, image.invalidResult) + "\n"
                + source.kextClassName() + " is not a loadable kext: " + image.invalid + ".";
        return new Report(source.kextClassName(), id, problem, image.unresolved);
    }
}
