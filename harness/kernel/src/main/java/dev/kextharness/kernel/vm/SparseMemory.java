package dev.kextharness.kernel.vm;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * Kernel memory contents, sparse: a page's bytes exist only once something writes them. An
 * unwritten page of the zone map reads as XNU's zone poison ({@code 0xdeadbeefdeadbeef}, which is
 * why a fresh {@code _MALLOC(1)} byte reads {@code 0xef}); any other unwritten page reads as zero,
 * as fresh kernel_map pages do. This is what lets a 12 GiB zone map run at true scale.
 *
 * <p>The page table is indexed, not hashed: a page number within the kernel's address range picks
 * a segment of 65,536 pages (allocated when its first page is written) and a slot in it. Bulk
 * operations work a page-sized run at a time, and a fill or copy that would only write what an
 * unwritten page reads as already (zeros outside the zone map) writes nothing, so zero-filling
 * memory nobody wrote costs no heap. A fill that covers a whole page with one byte value points
 * the page at a shared, read-only page of that value (copied on the next partial write), so a
 * {@code memset} of gigabytes costs a table entry per page, not the bytes.
 *
 * <p>Whether an address is mapped at all is the caller's business (zones and vm maps know); this
 * class only holds bytes. Little-endian, as on x86_64. Safe for many threads: segments and pages
 * are published by compare-and-set, readers take no lock and write nothing shared, and threads that
 * write different bytes of a page do not disturb each other.
 */
public final class SparseMemory {
    /** {@code ZP_POISON} on LP64. */
    public static final long ZP_POISON = 0xdeadbeefdeadbeefL;

    /** Told of every write to the zone map made through the public write methods. */
    public interface ZoneWriteObserver {
        void wrote(long addr, long length);
    }

    /**
     * Unwritten words that read otherwise than the fill: the zone allocator's zcache canaries in
     * the first and last word of a cached zone's elements, which cost no page until written.
     */
    public interface Overlay {
        /** What the unwritten 8-byte aligned word at {@code addr} reads as, given its fill. */
        long word(long addr, long fill);

        /** Writes the overlay's words into a page of the poisoned range that is coming into existence. */
        void initPage(long base, byte[] page);
    }

    private static final VarHandle SEGMENT = MethodHandles.arrayElementVarHandle(byte[][][].class);
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(byte[][].class);
    /** Little-endian 8-byte view of a page, for word loads, stores and fills. */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int PAGE = (int) AddressSpace.PAGE_SIZE;
    private static final int SEGMENT_SHIFT = 16;
    private static final int SEGMENT_MASK = (1 << SEGMENT_SHIFT) - 1;
    /** The first page the indexed table covers: kexts, the kernel, the zone map, kalloc_map and kernel_map. */
    private static final long TABLE_BASE = AddressSpace.VM_MIN_KERNEL_AND_KEXT_ADDRESS;
    private static final long TABLE_PAGES = (AddressSpace.KERNEL_MAP_END - TABLE_BASE) >>> AddressSpace.PAGE_SHIFT;
    /** A page of poison, copied into new zone pages and over freed bytes. */
    private static final byte[] POISON_PAGE = new byte[PAGE];

    static {
        for (int i = 0; i < PAGE; i += 8) {
            WORDS.set(POISON_PAGE, i, ZP_POISON);
        }
    }

    private final long poisonedStart;
    private final long poisonedEnd;
    private final byte[][][] segments = new byte[(int) ((TABLE_PAGES + SEGMENT_MASK) >>> SEGMENT_SHIFT)][][];
    /** Pages outside the kernel range (none in a normal run): kept, but not worth a table. */
    private final Map<Long, byte[]> strayPages = new ConcurrentHashMap<>();
    private final AtomicInteger materialized = new AtomicInteger();
    /** Pages with bytes of their own (not a shared uniform page): what the contents cost in heap. */
    private final AtomicInteger privatePages = new AtomicInteger();
    /** Shared read-only pages, one per byte value, made on first use; one byte longer than a page to tell them apart. */
    private static final byte[][] UNIFORM = new byte[256][];
    private LongConsumer pageObserver = addr -> { };
    private ZoneWriteObserver zoneWriteObserver = (addr, length) -> { };
    /** Words of unwritten memory that read otherwise than the fill (the zcache canaries); null if none. */
    private volatile Overlay overlay;

    /**
     * @param poisonedStart first address of the range whose unwritten bytes read as poison (the zone map)
     * @param poisonedEnd   end (exclusive) of that range
     */
    public SparseMemory(long poisonedStart, long poisonedEnd) {
        this.poisonedStart = poisonedStart;
        this.poisonedEnd = poisonedEnd;
    }

    /** Told the base address of every page that comes into existence. */
    public void setPageObserver(LongConsumer observer) {
        this.pageObserver = observer;
    }

    /**
     * Told of the writes into the zone map that come through {@link #store}, {@link #store8} and
     * {@link #fill} (the kernel's own writes), so that zalloc knows which elements hold data.
     * Kext accesses, checked and recorded by zalloc first, use {@link #storeChecked}.
     */
    public void setZoneWriteObserver(ZoneWriteObserver observer) {
        this.zoneWriteObserver = observer;
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
     * Stores an aligned word only if its page exists with bytes of its own; an unwritten page keeps
     * reading as its fill and overlay. Returns whether it stored.
     */
    public boolean storeIfMaterialized(long addr, long value) {
        byte[] page = existingPage(addr >>> AddressSpace.PAGE_SHIFT);
        if (page == null) {
            return false;
        }
        WORDS.set(page(addr), offset(addr), value);
        return true;
    }

    /** True if {@code addr} is in the range whose unwritten bytes read as poison. */
    public boolean poisoned(long addr) {
        return Long.compareUnsigned(addr, poisonedStart) >= 0 && Long.compareUnsigned(addr, poisonedEnd) < 0;
    }

    /** The byte an unwritten address reads as. */
    public int fillByte(long addr) {
        if (!poisoned(addr)) {
            return 0;
        }
        Overlay o = overlay;
        long word = o == null ? ZP_POISON : o.word(addr & ~7L, ZP_POISON);
        return (int) (word >>> ((addr & 7) * 8)) & 0xff;
    }

    public int load8(long addr) {
        byte[] page = existingPage(addr >>> AddressSpace.PAGE_SHIFT);
        return page == null ? fillByte(addr) : page[offset(addr)] & 0xff;
    }

    /** Little-endian load of {@code width} bytes (1..8). */
    public long load(long addr, int width) {
        int offset = offset(addr);
        if (offset + width > PAGE) {
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
        observe(addr, 1);
        page(addr)[offset(addr)] = (byte) value;
    }

    /** Little-endian store of the low {@code width} bytes of {@code value}. */
    public void store(long addr, int width, long value) {
        observe(addr, width);
        storeChecked(addr, width, value);
    }

    /** {@link #store} for a write the caller has already checked and recorded: no observer is told. */
    public void storeChecked(long addr, int width, long value) {
        int offset = offset(addr);
        if (offset + width > PAGE) {
            for (int i = 0; i < width; i++) {
                page(addr + i)[offset(addr + i)] = (byte) (value >>> (8 * i));
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
        if (length > 0) {
            observe(addr, length);
            fillChecked(addr, length, value);
        }
    }

    /**
     * {@link #fill} for a write the caller has already checked and recorded. A page-sized run at a
     * time; a run of zeros into an unwritten page that reads as zero writes nothing.
     */
    public void fillChecked(long addr, long length, int value) {
        long a = addr;
        long end = addr + length;
        byte b = (byte) value;
        while (Long.compareUnsigned(a, end) < 0) {
            int offset = offset(a);
            int n = (int) Math.min(PAGE - offset, end - a);
            long pageNumber = a >>> AddressSpace.PAGE_SHIFT;
            if (n == PAGE) {
                // A whole page of one value: no bytes of its own (none at all for zeros outside the zone map).
                install(pageNumber, b == 0 && !poisoned(a) && !poisoned(a + n - 1) ? null : uniformPage(b));
            } else if (b != 0 || existingPage(pageNumber) != null || poisoned(a) || poisoned(a + n - 1)) {
                Arrays.fill(page(a), offset, offset + n, b);
            }
            a += n;
        }
    }

    /**
     * Copies {@code length} bytes from {@code src} to {@code dst}; the ranges may overlap
     * ({@code bcopy} is {@code memmove}). A run at a time, nothing written where both sides are
     * unwritten pages that read alike.
     */
    public void copyChecked(long src, long dst, long length) {
        if (length <= 0 || src == dst) {
            return;
        }
        boolean backwards = Long.compareUnsigned(dst, src) > 0 && Long.compareUnsigned(dst - src, length) < 0;
        long done = 0;
        while (done < length) {
            long left = length - done;
            long s;
            long d;
            int n;
            if (backwards) {
                long sEnd = src + left;
                long dEnd = dst + left;
                n = (int) Math.min(left, Math.min(inPageBefore(sEnd), inPageBefore(dEnd)));
                s = sEnd - n;
                d = dEnd - n;
            } else {
                s = src + done;
                d = dst + done;
                n = (int) Math.min(left, Math.min(PAGE - offset(s), PAGE - offset(d)));
            }
            copyRun(s, d, n);
            done += n;
        }
    }

    /** Bytes of {@code end}'s page before it (a whole page when {@code end} is page aligned). */
    private static int inPageBefore(long end) {
        int offset = offset(end);
        return offset == 0 ? PAGE : offset;
    }

    /** Copies a run that lies within one page on each side. */
    private void copyRun(long s, long d, int n) {
        byte[] from = existingPage(s >>> AddressSpace.PAGE_SHIFT);
        if (from == null) {
            boolean srcPoison = poisoned(s);
            if (!srcPoison && !poisoned(d) && !poisoned(d + n - 1) && existingPage(d >>> AddressSpace.PAGE_SHIFT) == null) {
                return; // zeros over zeros
            }
            byte[] to = page(d);
            if (srcPoison) {
                for (int i = 0; i < n; i++) {
                    to[offset(d) + i] = (byte) fillByte(s + i);
                }
            } else {
                Arrays.fill(to, offset(d), offset(d) + n, (byte) 0);
            }
            return;
        }
        byte[] to = page(d);
        System.arraycopy(from, offset(s), to, offset(d), n);
    }

    /**
     * Writes the poison pattern over a range, without materialising pages that are not there yet
     * (they read as poison already when the range is in the zone map).
     */
    public void poison(long addr, long length) {
        long a = addr;
        long end = addr + length;
        while (Long.compareUnsigned(a, end) < 0) {
            int offset = offset(a);
            int n = (int) Math.min(PAGE - offset, end - a);
            if (existingPage(a >>> AddressSpace.PAGE_SHIFT) != null) {
                // Poison at byte a is byte (a & 7) of ZP_POISON, which is the same byte in the template page.
                System.arraycopy(POISON_PAGE, offset, page(a), offset, n);
            }
            a += n;
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
            long words = Math.min(PAGE - inPage, length - offset) >>> 3;
            byte[] page = existingPage(a >>> AddressSpace.PAGE_SHIFT);
            if (page == null) {
                int checked = overlay == null ? 1 : (int) Math.max(words, 1);
                for (int w = 0; w < checked; w++) {
                    if (unwrittenWord(a + 8L * w) != ZP_POISON) {
                        return offset + 8L * w;
                    }
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
        if (materialized.get() == 0 || length <= 0) {
            return false;
        }
        for (long p = addr >>> AddressSpace.PAGE_SHIFT; p <= (addr + length - 1) >>> AddressSpace.PAGE_SHIFT; p++) {
            if (lookup(p) != null) {
                return true;
            }
        }
        return false;
    }

    /** Forgets the pages of a range that was unmapped, so it reads as fresh memory again. */
    public void discard(long addr, long length) {
        if (materialized.get() == 0 || length <= 0) {
            return;
        }
        for (long p = addr >>> AddressSpace.PAGE_SHIFT; p <= (addr + length - 1) >>> AddressSpace.PAGE_SHIFT; p++) {
            remove(p);
        }
    }

    /** Number of pages whose bytes exist (written pages, shared uniform ones included). */
    public int materializedPages() {
        return materialized.get();
    }

    /** Number of pages holding bytes of their own: 4 KiB of heap each. */
    public int privatePages() {
        return privatePages.get();
    }

    private static byte[] uniformPage(byte value) {
        byte[] page = UNIFORM[value & 0xff];
        if (page == null) {
            page = new byte[PAGE + 1];
            Arrays.fill(page, value);
            UNIFORM[value & 0xff] = page; // a benign race: any copy is as good as another
        }
        return page;
    }

    private void observe(long addr, long length) {
        if (poisoned(addr) || poisoned(addr + length - 1)) {
            zoneWriteObserver.wrote(addr, length);
        }
    }

    private static int offset(long addr) {
        return (int) (addr & AddressSpace.PAGE_MASK);
    }

    private static long truncate(long value, int width) {
        return width == 8 ? value : value & ((1L << (8 * width)) - 1);
    }

    /** The little-endian word unwritten memory at {@code addr} reads as. */
    private long unwrittenWord(long addr) {
        Overlay o = overlay;
        if (o != null && poisoned(addr)) {
            if ((addr & 7) == 0) {
                return o.word(addr, ZP_POISON);
            }
            long value = 0;
            for (int i = 7; i >= 0; i--) {
                value = (value << 8) | fillByte(addr + i);
            }
            return value;
        }
        boolean first = poisoned(addr);
        if (first == poisoned(addr + 7)) {
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
        return lookup(pageNumber);
    }

    private byte[] lookup(long pageNumber) {
        long index = pageNumber - (TABLE_BASE >>> AddressSpace.PAGE_SHIFT);
        if (index >= 0 && index < TABLE_PAGES) {
            byte[][] segment = (byte[][]) SEGMENT.getAcquire(segments, (int) (index >>> SEGMENT_SHIFT));
            return segment == null ? null : (byte[]) SLOT.getAcquire(segment, (int) (index & SEGMENT_MASK));
        }
        return strayPages.get(pageNumber);
    }

    private void remove(long pageNumber) {
        install(pageNumber, null);
    }

    /** Puts {@code page} (null: none) in the table at {@code pageNumber}, whatever was there. */
    private void install(long pageNumber, byte[] page) {
        long index = pageNumber - (TABLE_BASE >>> AddressSpace.PAGE_SHIFT);
        byte[] old;
        if (index >= 0 && index < TABLE_PAGES) {
            byte[][] segment = segment((int) (index >>> SEGMENT_SHIFT), page != null);
            if (segment == null) {
                return;
            }
            old = (byte[]) SLOT.getAndSet(segment, (int) (index & SEGMENT_MASK), page);
        } else {
            old = page == null ? strayPages.remove(pageNumber) : strayPages.put(pageNumber, page);
        }
        counted(pageNumber, old, page);
    }

    /**
     * Puts {@code page} in the table only if the slot still holds {@code expected}; returns what the
     * table holds afterwards (another thread's page if it won the race).
     */
    private byte[] publish(long pageNumber, byte[] expected, byte[] page) {
        long index = pageNumber - (TABLE_BASE >>> AddressSpace.PAGE_SHIFT);
        byte[] witness;
        if (index >= 0 && index < TABLE_PAGES) {
            byte[][] segment = segment((int) (index >>> SEGMENT_SHIFT), true);
            witness = (byte[]) SLOT.compareAndExchange(segment, (int) (index & SEGMENT_MASK), expected, page);
        } else {
            witness = expected == null ? strayPages.putIfAbsent(pageNumber, page)
                    : strayPages.replace(pageNumber, expected, page) ? expected : strayPages.get(pageNumber);
        }
        if (witness != expected) {
            return witness;
        }
        counted(pageNumber, expected, page);
        return page;
    }

    /** The segment of the table, made (and published by compare-and-set) if {@code make}. */
    private byte[][] segment(int s, boolean make) {
        byte[][] segment = (byte[][]) SEGMENT.getAcquire(segments, s);
        if (segment == null && make) {
            SEGMENT.compareAndExchange(segments, s, (byte[][]) null, new byte[1 << SEGMENT_SHIFT][]);
            segment = (byte[][]) SEGMENT.getAcquire(segments, s);
        }
        return segment;
    }

    private void counted(long pageNumber, byte[] old, byte[] page) {
        materialized.addAndGet((page != null ? 1 : 0) - (old != null ? 1 : 0));
        privatePages.addAndGet((page != null && page.length == PAGE ? 1 : 0) - (old != null && old.length == PAGE ? 1 : 0));
        if (old == null && page != null) {
            pageObserver.accept(pageNumber << AddressSpace.PAGE_SHIFT);
        }
    }

    /** The page's bytes, writable: made if it was never written, copied if it is a shared uniform page. */
    private byte[] page(long addr) {
        long pageNumber = addr >>> AddressSpace.PAGE_SHIFT;
        byte[] page = existingPage(pageNumber);
        while (page == null || page.length != PAGE) {
            byte[] own = page == null ? freshPage(pageNumber) : Arrays.copyOf(page, PAGE);
            page = publish(pageNumber, page, own);
        }
        return page;
    }

    private byte[] freshPage(long pageNumber) {
        byte[] page = new byte[PAGE];
        long base = pageNumber << AddressSpace.PAGE_SHIFT;
        boolean first = poisoned(base);
        boolean last = poisoned(base + PAGE - 1);
        if (first && last) {
            System.arraycopy(POISON_PAGE, 0, page, 0, PAGE);
        } else if (first || last) {
            for (int i = 0; i < PAGE; i++) {
                page[i] = (byte) fillByte(base + i);
            }
        }
        Overlay o = overlay;
        if (o != null && (first || last)) {
            o.initPage(base, page);
        }
        return page;
    }
}
