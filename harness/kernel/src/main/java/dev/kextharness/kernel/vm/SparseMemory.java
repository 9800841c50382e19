package dev.kextharness.kernel.vm;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Kernel memory contents, sparse: a page's bytes exist only once something writes them. An
 * unwritten page of the zone map reads as XNU's zone poison ({@code 0xdeadbeefdeadbeef}, which is
 * why a fresh {@code _MALLOC(1)} byte reads {@code 0xef}); any other unwritten page reads as zero,
 * as fresh kernel_map pages do. This is what lets a 12 GiB zone map run at true scale.
 *
 * <p>Whether an address is mapped at all is the caller's business (zones and vm maps know); this
 * class only holds bytes. Little-endian, as on x86_64.
 */
public final class SparseMemory {
    /** {@code ZP_POISON} on LP64. */
    public static final long ZP_POISON = 0xdeadbeefdeadbeefL;

    private final long poisonedStart;
    private final long poisonedEnd;
    private final Map<Long, byte[]> pages = new HashMap<>();
    private LongConsumer pageObserver = addr -> { };

    /**
     * @param poisonedStart first address of the range whose unwritten bytes read as poison (the zone map)
     * @param poisonedEnd   end (exclusive) of that range
     */
    public SparseMemory(long poisonedStart, long poisonedEnd) {
        this.poisonedStart = poisonedStart;
        this.poisonedEnd = poisonedEnd;
    }

    /** Told the base address of every page that comes into existence (zones mark their chunk touched). */
    public void setPageObserver(LongConsumer observer) {
        this.pageObserver = observer;
    }

    /** The byte an unwritten address reads as. */
    public int fillByte(long addr) {
        if (Long.compareUnsigned(addr, poisonedStart) >= 0 && Long.compareUnsigned(addr, poisonedEnd) < 0) {
            return (int) (ZP_POISON >>> ((addr & 7) * 8)) & 0xff;
        }
        return 0;
    }

    public int load8(long addr) {
        byte[] page = pages.get(addr >>> AddressSpace.PAGE_SHIFT);
        return page == null ? fillByte(addr) : page[(int) (addr & AddressSpace.PAGE_MASK)] & 0xff;
    }

    /** Little-endian load of {@code width} bytes (1..8). */
    public long load(long addr, int width) {
        long value = 0;
        for (int i = width - 1; i >= 0; i--) {
            value = (value << 8) | load8(addr + i);
        }
        return value;
    }

    public void store8(long addr, int value) {
        page(addr)[(int) (addr & AddressSpace.PAGE_MASK)] = (byte) value;
    }

    /** Little-endian store of the low {@code width} bytes of {@code value}. */
    public void store(long addr, int width, long value) {
        for (int i = 0; i < width; i++) {
            store8(addr + i, (int) (value >>> (8 * i)));
        }
    }

    /** Sets {@code length} bytes to {@code value}. */
    public void fill(long addr, long length, int value) {
        for (long i = 0; i < length; i++) {
            store8(addr + i, value);
        }
    }

    /**
     * Writes the poison pattern over a range, without materialising pages that are not there yet
     * (they read as poison already when the range is in the zone map).
     */
    public void poison(long addr, long length) {
        for (long i = 0; i < length; i++) {
            long a = addr + i;
            byte[] page = pages.get(a >>> AddressSpace.PAGE_SHIFT);
            if (page != null) {
                page[(int) (a & AddressSpace.PAGE_MASK)] = (byte) ((ZP_POISON >>> ((a & 7) * 8)) & 0xff);
            }
        }
    }

    /** True if any page overlapping the range has been written. */
    public boolean anyMaterialized(long addr, long length) {
        if (pages.isEmpty() || length <= 0) {
            return false;
        }
        for (long p = addr >>> AddressSpace.PAGE_SHIFT; p <= (addr + length - 1) >>> AddressSpace.PAGE_SHIFT; p++) {
            if (pages.containsKey(p)) {
                return true;
            }
        }
        return false;
    }

    /** Forgets the pages of a range that was unmapped, so it reads as fresh memory again. */
    public void discard(long addr, long length) {
        if (pages.isEmpty()) {
            return;
        }
        for (long p = addr >>> AddressSpace.PAGE_SHIFT; p <= (addr + length - 1) >>> AddressSpace.PAGE_SHIFT; p++) {
            pages.remove(p);
        }
    }

    /** Number of pages whose bytes exist. */
    public int materializedPages() {
        return pages.size();
    }

    private byte[] page(long addr) {
        return pages.computeIfAbsent(addr >>> AddressSpace.PAGE_SHIFT, this::freshPage);
    }

    private byte[] freshPage(long pageNumber) {
        byte[] page = new byte[(int) AddressSpace.PAGE_SIZE];
        long base = pageNumber << AddressSpace.PAGE_SHIFT;
        if (fillByte(base) != 0 || fillByte(base + 1) != 0) {
            for (int i = 0; i < page.length; i++) {
                page[i] = (byte) fillByte(base + i);
            }
        }
        pageObserver.accept(base);
        return page;
    }
}
