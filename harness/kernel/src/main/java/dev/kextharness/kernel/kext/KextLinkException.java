package dev.kextharness.kernel.kext;

import java.util.List;

/**
 * A kext referenced symbols the kernel does not export, as kxld reports an unresolved symbol.
 * The message lists every one and where it is used; nothing of the kext was loaded and no load
 * tag was consumed (XNU assigns the tag only after a successful link).
 *
 * <p>Stability: stable.
 */
public final class KextLinkException extends KextLoadException {
    private static final long serialVersionUID = 1L;

    /** kxld's own result for an unresolved symbol: {@code KERN_FAILURE}. */
    public static final int KXLD_ERROR = 5;

    /**
     * One unresolved symbol at one place.
     *
     * @param symbol         the class, {@code Class.field:type} or {@code Class.method(descriptor)}
     * @param referencedFrom {@code Class.method(File.java:line)}, or the declaration that names it
     * @param rule           a short tag for the rule broken, such as {@code kernel-private}
     */
    public record Unresolved(String symbol, String referencedFrom, String rule) {
    }

    private final List<Unresolved> unresolved;

    KextLinkException(String bundleId, String message, List<Unresolved> unresolved, List<String> log) {
        super(bundleId, KextReturn.LINK_ERROR, message, log, null);
        this.unresolved = List.copyOf(unresolved);
    }

    /** Every unresolved symbol, in the order the kext's code uses them. */
    public List<Unresolved> unresolved() {
        return unresolved;
    }
}
