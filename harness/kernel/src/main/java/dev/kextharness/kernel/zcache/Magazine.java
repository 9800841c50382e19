package dev.kextharness.kernel.zcache;

/**
 * {@code struct zcc_magazine}: a stack of up to {@link ZoneCache#MAGAZINE_SIZE} cached element
 * addresses. Used by one CPU at a time, or under the depot lock while it sits in the depot.
 */
final class Magazine {
    final long[] elements;
    /** {@code zcc_magazine_index}: the number of elements held, and where the next one goes. */
    int index;
    /** Keeps the hot index of one CPU's magazine off the cache line of the next object. */
    @SuppressWarnings("unused")
    private long pad1, pad2, pad3, pad4, pad5, pad6, pad7;

    Magazine(int capacity) {
        this.elements = new long[capacity];
    }

    boolean hasSpace() {
        return index < elements.length;
    }

    boolean hasElements() {
        return index > 0;
    }

    /** {@code zcache_mag_pop}: the slot is cleared so the pointer cannot be reached once taken. */
    long pop() {
        long element = elements[--index];
        elements[index] = 0;
        return element;
    }

    void push(long element) {
        elements[index++] = element;
    }
}
