package dev.kextharness.kernel.ledger;

/**
 * A harness finding: a misuse that real XNU accepts silently (a cross-family free, a kfree with
 * another size in the same bucket, a kext leaving something registered) but which this harness,
 * being stricter, reports. Every message says what XNU would have done.
 *
 * @param kind    what rule was broken
 * @param site    the call site that broke it (the free, usually)
 * @param address the address concerned, or 0
 * @param message the full explanation
 */
public record Finding(Kind kind, CallSite site, long address, String message) {

    public enum Kind { CROSS_FAMILY_FREE, SIZE_MISMATCH, TAG_MISMATCH, LARGE_FREE_MISMATCH, LINGERING_REGISTRATION,
        /** OSMalloc or OSFree with a tag its owner had released. */
        RELEASED_TAG }

    @Override
    public String toString() {
        return message;
    }
}
