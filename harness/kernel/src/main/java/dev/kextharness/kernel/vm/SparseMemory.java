package dev.kextharness.kernel.vm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;

/**
 * Kernel memory contents, sparse: a page's bytes exist only once something writes them. An
 * unwritten page of the zone map reads as XNU's zone poison ({@code 0xdeadbeefdeadbeef}, which is
 * why a fresh {@code _MALLOC(1)} byte reads {@code 0xef}); any other unwritten page reads as zero,
 * as fresh kernel_map pages do. This is what lets a 12 GiB zone map run at true scale.
 *
 * <p>Whether an address is mapped at all is the caller's business (zones and vm maps know); this
 * class only holds bytes. Little-endian, as on x86_64. Safe for many threads: pages come into
 * existence atomically, and threads that write different bytes of a page do not disturb each other.
 */
public final class SparseMemory {
    /** {@code ZP_POISON} on LP64. */
    public static final long ZP_POISON = 0xdeadbeefdeadbeefL;

    /** Little-endian 8-byte view of a page, for word loads, stores and fills. */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private final long poisonedStart;
    private final long poisonedEnd;
    /** Pages outside the poisoned range (kalloc_map, kernel_map), by page number. */
    private final Map<Long, byte[]> pages = new ConcurrentHashMap<>();
    /**
     * Pages of the poisoned range (the zone map), found by index: segments of {@value #SEGMENT_PAGES}
     * pages made on first use. A page is published by a compare-and-set once filled, so readers on
     * any thread take no lock and write nothing shared.
     */
    private final byte[][][] segments;
    private final java.util.concurrent.atomic.AtomicLong zonePages = new java.util.concurrent.atomic.AtomicLong();
    private static final int SEGMENT_SHIFT = 12;
    private static final int SEGMENT_PAGES = 1 << SEGMENT_SHIFT;
    private static final VarHandle SEGMENT = MethodHandles.arrayElementVarHandle(byte[][][].class);
    private static final VarHandle PAGE = MethodHandles.arrayElementVarHandle(byte[][].class);
    private LongConsumer pageObserver = addr -> { };
    /** Words of unwritten memory that read otherwise than the fill (the zcache canaries); null if none. */
    private Overlay overlay;

    /**
     * Unwritten words that read otherwise than their fill: the zone allocator's zcache canaries in
     * the first and last word of a cached zone's elements, which cost no page until written.
     */
    public interface Overlay {
        /** What the unwritten 8-byte aligned word at {@code addr} reads as, given its fill. */
        long word(long addr, long fill);

        /** Writes the overlay's words into a page of the poisoned range that is coming into existence. */
        void initPage(long base, byte[] page);
    }

    /**
     * @param poisonedStart first address of the range whose unwritten bytes read as poison (the zone map)
     * @param poisonedEnd   end (exclusive) of that range
     */
    public SparseMemory(long poisonedStart, long poisonedEnd) {
        this.poisonedStart = poisonedStart;
        this.poisonedEnd = poisonedEnd;
        long zonePageCount = (poisonedEnd - poisonedStart) >>> AddressSpace.PAGE_SHIFT;
        this.segments = new byte[(int) ((zonePageCount + SEGMENT_PAGES - 1) >>> SEGMENT_SHIFT)][][];
    }

    /** Told the base address of every page that comes into existence (zones mark their chunk touched). */
    public void setPageObserver(LongConsumer observer) {
        this.pageObserver = observer;
    }

    /** Sets the overlay of unwritten words (once, at boot). */
    public void setOverlay(Overlay overlay) {
        this.overlay = overlay;
    }

    /** Writes a little-endian word into a page's bytes (for an {@link Overlay}'s {@code initPage}). */
    public static void putWord(byte[] page, int offset, long value) {
        WORDS.set(page, offset, value);
    }

    /**
     * Stores an aligned word only if its page exists; an unwritten page keeps reading as its fill
     * and overlay. Returns whether it stored.
     */
    public boolean storeIfMaterialized(long addr, long value) {
        byte[] page = existingPage(addr >>> AddressSpace.PAGE_SHIFT);
        if (page == null) {
            return false;
        }
        WORDS.set(page, offset(addr), value);
        return true;
    }

    /** The byte an unwritten address reads as. */
    public int fillByte(long addr) {
        if (Long.compareUnsigned(addr, poisonedStart) >= 0 && Long.compareUnsigned(addr, poisonedEnd) < 0) {
            long word = overlay == null ? ZP_POISON : overlay.word(addr & ~7L, ZP_POISON);
            return (int) (word >>> ((addr & 7) * 8)) & 0xff;
        }
        return 0;
    }

    public int load8(long addr) {
        byte[] page = existingPage(addr >>> AddressSpace.PAGE_SHIFT);
        return page == null ? fillByte(addr) : page[offset(addr)] & 0xff;
    }

    /** Little-endian load of {@code width} bytes (1..8). */
    public long load(long addr, int width) {
        int offset = offset(addr);
        if (offset + width > AddressSpace.PAGE_SIZE) {
            return loadAcrossPages(addr, width);
        }
        byte[] page = existingPage(addr >>> AddressSpace.PAGE_SHIFT);
        if (page == null) {
            return truncate(unwrittenWord(addr), width);
        }
        if (width == 8) {
            return (long) WORDS.get(page, offset);
        }
        long value = 0;
        for (int i = width - 1; i >= 0; i--) {
            value = (value << 8) | (page[offset + i] & 0xff);
        }
        return value;
    }

    private long loadAcrossPages(long addr, int width) {
        long value = 0;
        for (int i = width - 1; i >= 0; i--) {
            value = (value << 8) | load8(addr + i);
        }
        return value;
    }

    public void store8(long addr, int value) {
        page(addr)[offset(addr)] = (byte) value;
    }

    /** Little-endian store of the low {@code width} bytes of {@code value}. */
    public void store(long addr, int width, long value) {
        int offset = offset(addr);
        if (offset + width > AddressSpace.PAGE_SIZE) {
            for (int i = 0; i < width; i++) {
                store8(addr + i, (int) (value >>> (8 * i)));
            }
            return;
        }
        byte[] page = page(addr);
        if (width == 8) {
            WORDS.set(page, offset, value);
            return;
        }
        for (int i = 0; i < width; i++) {
            page[offset + i] = (byte) (value >>> (8 * i));
        }
    }

    /** Sets {@code length} bytes to {@code value}. */
    public void fill(long addr, long length, int value) {
        long a = addr;
        long end = addr + length;
        while (a != end && length > 0) {
            int offset = offset(a);
            int n = (int) Math.min(AddressSpace.PAGE_SIZE - offset, end - a);
            Arrays.fill(page(a), offset, offset + n, (byte) value);
            a += n;
        }
    }

    /**
     * Writes the poison pattern over a range, without materialising pages that are not there yet
     * (they read as poison already when the range is in the zone map).
     */
    public void poison(long addr, long length) {
        long a = addr;
        long end = addr + length;
        while (a != end && length > 0) {
            int offset = offset(a);
            int n = (int) Math.min(AddressSpace.PAGE_SIZE - offset, end - a);
            byte[] page = existingPage(a >>> AddressSpace.PAGE_SHIFT);
            if (page != null) {
                poisonInPage(page, a, offset, n);
            }
            a += n;
        }
    }

    /** Poison at byte {@code a} is byte {@code a & 7} of ZP_POISON, so aligned words take it whole. */
    private static void poisonInPage(byte[] page, long a, int offset, int n) {
        int i = offset;
        int end = offset + n;
        for (; i < end && ((a + i - offset) & 7) != 0; i++) {
            page[i] = poisonByte(a + i - offset);
        }
        for (; i + 8 <= end; i += 8) {
            WORDS.set(page, i, ZP_POISON);
        }
        for (; i < end; i++) {
            page[i] = poisonByte(a + i - offset);
        }
    }

    /**
     * The offset of the first 8-byte word of {@code [addr, addr + length)} that does not read as
     * {@link #ZP_POISON}, or -1 if every word does. {@code addr} is 8-byte aligned, as zone
     * elements are; a trailing partial word is not checked.
     */
    public long firstUnpoisonedWord(long addr, long length) {
        for (long offset = 0; offset + 8 <= length; ) {
            long a = addr + offset;
            int inPage = offset(a);
            long words = Math.min(AddressSpace.PAGE_SIZE - inPage, length - offset) >>> 3;
            byte[] page = existingPage(a >>> AddressSpace.PAGE_SHIFT);
            if (page == null) {
                if (unwrittenWord(a) != ZP_POISON) {
                    return offset;
                }
            } else {
                for (int w = 0; w < words; w++) {
                    if ((long) WORDS.get(page, inPage + 8 * w) != ZP_POISON) {
                        return offset + 8L * w;
                    }
                }
            }
            offset += Math.max(words, 1) << 3;
        }
        return -1;
    }

    /** True if any page overlapping the range has been written. */
    public boolean anyMaterialized(long addr, long length) {
        if (length <= 0) {
            return false;
        }
        for (long p = addr >>> AddressSpace.PAGE_SHIFT; p <= (addr + length - 1) >>> AddressSpace.PAGE_SHIFT; p++) {
            if (existingPage(p) != null) {
                return true;
            }
        }
        return false;
    }

    /** Forgets the pages of a range that was unmapped, so it reads as fresh memory again. */
    public void discard(long addr, long length) {
        for (long p = addr >>> AddressSpace.PAGE_SHIFT; p <= (addr + length - 1) >>> AddressSpace.PAGE_SHIFT; p++) {
            long index = zoneIndex(p);
            if (index < 0) {
                pages.remove(p);
                continue;
            }
            byte[][] segment = (byte[][]) SEGMENT.getAcquire(segments, (int) (index >>> SEGMENT_SHIFT));
            if (segment != null && PAGE.getAndSet(segment, (int) (index & (SEGMENT_PAGES - 1)), (byte[]) null) != null) {
                zonePages.decrementAndGet();
            }
        }
    }

    /** Number of pages whose bytes exist. */
    public int materializedPages() {
        return (int) (pages.size() + zonePages.get());
    }

    private static int offset(long addr) {
        return (int) (addr & AddressSpace.PAGE_MASK);
    }

    private static byte poisonByte(long addr) {
        return (byte) (ZP_POISON >>> ((addr & 7) * 8));
    }

    private static long truncate(long value, int width) {
        return width == 8 ? value : value & ((1L << (8 * width)) - 1);
    }

    /** The little-endian word unwritten memory at {@code addr} reads as. */
    private long unwrittenWord(long addr) {
        if (overlay != null && (addr & 7) == 0
                && Long.compareUnsigned(addr, poisonedStart) >= 0 && Long.compareUnsigned(addr, poisonedEnd) < 0) {
            return overlay.word(addr, ZP_POISON);
        }
        if (overlay != null && (addr & 7) != 0) {
            long value = 0;
            for (int i = 7; i >= 0; i--) {
                value = (value << 8) | fillByte(addr + i);
            }
            return value;
        }
        boolean first = fillByte(addr) != 0;
        if (first == (fillByte(addr + 7) != 0)) {
            return first ? Long.rotateRight(ZP_POISON, (int) (addr & 7) * 8) : 0;
        }
        long value = 0; // the word straddles an edge of the poisoned range
        for (int i = 7; i >= 0; i--) {
            value = (value << 8) | fillByte(addr + i);
        }
        return value;
    }

    /** The page's bytes, or null if it was never written: one table lookup per access. */
    private byte[] existingPage(long pageNumber) {
        long index = zoneIndex(pageNumber);
        if (index < 0) {
            return pages.get(pageNumber);
        }
        byte[][] segment = (byte[][]) SEGMENT.getAcquire(segments, (int) (index >>> SEGMENT_SHIFT));
        return segment == null ? null : (byte[]) PAGE.getAcquire(segment, (int) (index & (SEGMENT_PAGES - 1)));
    }

    /** The page's index in the zone map's table, or -1 outside the poisoned range. */
    private long zoneIndex(long pageNumber) {
        long index = pageNumber - (poisonedStart >>> AddressSpace.PAGE_SHIFT);
        return index >= 0 && index < ((long) segments.length << SEGMENT_SHIFT)
                && pageNumber < (poisonedEnd >>> AddressSpace.PAGE_SHIFT) ? index : -1;
    }

    private byte[] page(long addr) {
        long pageNumber = addr >>> AddressSpace.PAGE_SHIFT;
        byte[] page = existingPage(pageNumber);
        if (page != null) {
            return page;
        }
        long index = zoneIndex(pageNumber);
        if (index < 0) {
            return pages.computeIfAbsent(pageNumber, this::freshPage);
        }
        int s = (int) (index >>> SEGMENT_SHIFT);
        byte[][] segment = (byte[][]) SEGMENT.getAcquire(segments, s);
        if (segment == null) {
            SEGMENT.compareAndExchange(segments, s, (byte[][]) null, new byte[SEGMENT_PAGES][]);
            segment = (byte[][]) SEGMENT.getAcquire(segments, s);
        }
        byte[] fresh = freshPage(pageNumber);
        byte[] won = (byte[]) PAGE.compareAndExchange(segment, (int) (index & (SEGMENT_PAGES - 1)), (byte[]) null, fresh);
        if (won != null) {
            return won; // another thread made it first
        }
        zonePages.incrementAndGet();
        return fresh;
    }

    private byte[] freshPage(long pageNumber) {
        byte[] page = new byte[(int) AddressSpace.PAGE_SIZE];
        long base = pageNumber << AddressSpace.PAGE_SHIFT;
        if (fillByte(base) != 0 && fillByte(base + page.length - 1) != 0) {
            for (int i = 0; i < page.length; i += 8) {
                WORDS.set(page, i, ZP_POISON);
            }
        } else if (fillByte(base) != 0 || fillByte(base + page.length - 1) != 0) {
            for (int i = 0; i < page.length; i++) {
                page[i] = (byte) fillByte(base + i);
            }
        }
        if (overlay != null && Long.compareUnsigned(base, poisonedStart) >= 0
                && Long.compareUnsigned(base, poisonedEnd) < 0) {
            overlay.initPage(base, page);
        }
        pageObserver.accept(base);
        return page;
    }
}
