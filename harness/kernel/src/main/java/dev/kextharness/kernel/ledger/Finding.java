package dev.kextharness.kernel.ledger;

import org.apiguardian.api.API;
import java.util.List;

/**
 * A harness finding: a misuse that real XNU accepts silently (a cross-family free, a kfree with
 * another size in the same bucket, a kext leaving something registered) but which this harness,
 * being stricter, reports. Every message says what XNU would have done.
 *
 * @param kind    what rule was broken
 * @param site    the call site that broke it (the free, usually)
 * @param address the address concerned, or 0
 * @param message the full explanation
 * @param related  the other call sites the finding involves (the allocation a bad free frees), in order
 */
@API(status = API.Status.STABLE, since = "0.1")
public record Finding(Kind kind, CallSite site, long address, String message, List<CallSite> related) {

    public Finding {
        related = List.copyOf(related);
    }

    /** A finding that involves only its own site. */
    public Finding(Kind kind, CallSite site, long address, String message) {
        this(kind, site, address, message, List.of());
    }

    public enum Kind { CROSS_FAMILY_FREE, SIZE_MISMATCH, TAG_MISMATCH, LARGE_FREE_MISMATCH, LINGERING_REGISTRATION }

    @Override
    public String toString() {
        return message;
    }
}
