package dev.kextharness.kernel.zalloc;

/**
 * What Catalina (xnu-6153) does with a memory error the harness reports at its access, in the
 * words each report ends with. It depends on the zone: the kalloc zones with a per-CPU cache
 * (zcache: kalloc.16 ... kalloc.1024, .2048, .4096, .8192) check only a canary in an element's
 * first and last words when they hand it out again; the others check zone poisoning's pattern
 * (fact sheet §6.4, §6.7).
 */
public final class Catalina {
    private Catalina() {
    }

    /** How many frees of an element of {@code elemSize} bytes poison it: 1 up to a cache line, else 1 in N. */
    static long poisonEvery(long elemSize) {
        return elemSize <= 64 ? 1 : 16 + (elemSize >> 4);
    }

    /** A read or write of {@code length} bytes at {@code offset} into a free element of {@code zone}. */
    public static String useAfterFree(Zone zone, long offset, long length, boolean write) {
        if (!write) {
            return zone.caching
                    ? "Catalina would return what the element holds, silently: the zcache canary in its first and last "
                    + "words, stale data or poison elsewhere."
                    : "Catalina would return what the element holds, silently: zone poison (0xdeadbeef) or stale data.";
        }
        boolean edge = offset < 8 || offset + length > zone.elemSize - 8;
        if (zone.caching) {
            return edge
                    ? "Catalina: " + zone.name + " has a per-CPU cache (zcache); this write changes the canary in the "
                    + "element's " + (offset < 8 ? "first" : "last") + " word, so the allocation that next takes it "
                    + "from the magazine panics \"Zone cache element was used after free!\", far from this line."
                    : "Catalina: " + zone.name + " has a per-CPU cache (zcache), which checks only the first and last "
                    + "words: this write to a middle word is never detected.";
        }
        long every = poisonEvery(zone.elemSize);
        return "Catalina: " + zone.name + " has no per-CPU cache; the next allocation of this element panics \"a freed "
                + "zone element has been modified in zone " + zone.name + "\" (zone poisoning), far from this line"
                + (every == 1 ? "." : ", if the free was one of the 1 in " + every + " that poison an element of "
                + zone.elemSize + " bytes; otherwise never.");
    }

    /** An access past the requested size of a live element, inside its bucket. */
    public static String pastRequested(Zone zone) {
        return "Catalina is silent: the element's " + zone.elemSize + " bytes are all " + zone.name
                + "'s, and XNU keeps no requested size (a KASAN kernel would catch it).";
    }

    /** A second free of an element of {@code zone}. */
    static String doubleFree(Zone zone) {
        return zone.caching
                ? "Catalina: " + zone.name + " has a per-CPU cache (zcache), which takes the second free silently: both "
                + "copies sit in the magazine and the next two allocations return the same element (a later drain "
                + "into the zone may panic \"zfree: double free\")."
                : "Catalina: " + zone.name + " has no per-CPU cache; XNU 6153 panics so only while the element heads its "
                + "page's free list (otherwise \"zfree: zone count underflow\" or later corruption).";
    }
}
