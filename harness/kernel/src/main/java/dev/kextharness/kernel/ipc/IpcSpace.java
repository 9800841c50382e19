package dev.kextharness.kernel.ipc;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * {@code struct ipc_space}: a task's port name space, a table of {@code ipc_entry}s
 * ({@code osfmk/ipc/ipc_entry.c}, {@code ipc_space.c}, {@code ipc_table.c} of xnu-6153).
 *
 * <p>A name is {@code (index << 8) | generation}; entry 0 is always free and heads the free list
 * (last freed, first reused, with the next generation). Each entry's {@code ie_bits} holds the
 * generation (bits 24-31, with a 2-bit rollover selector at 22-23), the type bits (16-20) and the
 * user references (0-15). The table grows through {@code ipc_table_entries}' sizes (21, 42, 85,
 * 170, 341, 512, 682, ...), up to {@link #MAX_ENTRIES}; past that, {@code KERN_NO_SPACE}.
 */
public final class IpcSpace {
    public static final int IE_BITS_UREFS_MASK = 0x0000ffff;
    public static final int IE_BITS_TYPE_MASK = 0x001f0000;
    public static final int IE_BITS_GEN_MASK = 0xff000000;
    static final int IE_BITS_GEN_ONE = 0x04000000;
    static final int IE_BITS_ROLL_MASK = 0x00c00000;

    /** {@code ipc_table_entries}: CONFIG_IPC_TABLE_ENTRIES_STEPS 256 on macOS, 24-byte entries, 4 KiB pages. */
    static final int[] TABLE_SIZES = tableSizes(255, 24, 4096);
    /** The largest table a space can have: 299,349 entries (derived; xnu's MASTER comment says 300714). */
    public static final int MAX_ENTRIES = TABLE_SIZES[TABLE_SIZES.length - 1];
    /** A new space's table ({@code ipc_space_create} with the first size). */
    public static final int INITIAL_ENTRIES = TABLE_SIZES[0];

    private final Task task;
    private final long address;
    private final int maxEntries;
    boolean active = true;
    private int sizeIndex;
    Object[] objects;
    int[] bits;
    private int[] next;
    private int inUse;
    /** {@code ipc_hash}: the entry naming each port this space holds send or receive rights to. */
    private final Map<IpcPort, Integer> reverse = new IdentityHashMap<>();

    IpcSpace(Task task, long address, int maxEntries) {
        this.task = task;
        this.address = address;
        this.maxEntries = maxEntries;
        int size = TABLE_SIZES[0];
        objects = new Object[size];
        bits = new int[size];
        next = new int[size];
        Arrays.fill(bits, IE_BITS_GEN_MASK);
        for (int i = 0; i < size; i++) {
            next[i] = i + 1 < size ? i + 1 : 0;
        }
    }

    /** {@code ipc_table_fill}: powers of two from 512 bytes to a page, then steps of a page, two, four, eight. */
    static int[] tableSizes(int count, int elemSize, int page) {
        int[] out = new int[count];
        int n = 0;
        long size = 1;
        for (; n < count && size < page; size <<= 1) {
            if (size >= 512) {
                out[n++] = (int) (size / elemSize);
            }
        }
        for (long incr = page; n < count; ) {
            for (int period = 0; period < 15 && n < count; period++, size += incr) {
                out[n++] = (int) (size / elemSize);
            }
            if (incr < (long) page << 3) {
                incr <<= 1;
            }
        }
        return out;
    }

    public Task task() {
        return task;
    }

    /** The space's kernel address ({@code ipc_space_t}). */
    public long address() {
        return address;
    }

    /** {@code is_table_size}. */
    public int tableSize() {
        return objects.length;
    }

    /** Names in use (entries with a type). */
    public int namesInUse() {
        return inUse;
    }

    public boolean isActive() {
        return active;
    }

    static int name(int index, int bits) {
        return (index << 8) | (bits >>> 24);
    }

    static int type(int bits) {
        return bits & IE_BITS_TYPE_MASK;
    }

    static int urefs(int bits) {
        return bits & IE_BITS_UREFS_MASK;
    }

    /** {@code IE_BITS_NEW_GEN}: the next generation, rolling over by the entry's rollover selector. */
    static int newGen(int old) {
        int roll = (((old & IE_BITS_ROLL_MASK) << 8) ^ IE_BITS_GEN_MASK);
        return (old + IE_BITS_GEN_ONE) & roll;
    }

    /** The index of a name in use, or -1 ({@code ipc_entry_lookup}). */
    int lookup(int name) {
        int index = name >>> 8;
        if (index == 0 || index >= objects.length) {
            return -1;
        }
        int b = bits[index];
        if (type(b) == 0 || (b >>> 24) != (name & 0xff)) {
            return -1;
        }
        return index;
    }

    /** {@code ipc_entry_claim}: a fresh entry from the free list, growing the table if needed; -1 if full. */
    int claim() {
        if (next[0] == 0 && !grow(objects.length + 1)) {
            return -1;
        }
        int index = next[0];
        next[0] = next[index];
        bits[index] = newGen(bits[index]) | (bits[index] & IE_BITS_ROLL_MASK);
        inUse++;
        return index;
    }

    /**
     * {@code ipc_entry_alloc_name}: the entry for a caller-chosen name, growing the table to reach
     * it. Returns the index, -1 if the table cannot grow that far, or -2 if the name's index is in
     * use (the caller compares objects).
     */
    int claimName(int name) {
        int index = name >>> 8;
        if (index >= objects.length && !grow(index + 1)) {
            return -1;
        }
        if (type(bits[index]) != 0) {
            return -2;
        }
        int prev = 0;
        while (next[prev] != index) {
            prev = next[prev];
        }
        next[prev] = next[index];
        bits[index] = (name & 0xff) << 24;
        inUse++;
        return index;
    }

    /** {@code ipc_entry_dealloc}: the entry goes to the head of the free list, keeping its generation. */
    void release(int index) {
        Object o = objects[index];
        if (o instanceof IpcPort port && reverse.get(port) != null && reverse.get(port) == index) {
            reverse.remove(port);
        }
        objects[index] = null;
        bits[index] &= IE_BITS_GEN_MASK | IE_BITS_ROLL_MASK;
        next[index] = next[0];
        next[0] = index;
        inUse--;
    }

    /** {@code ipc_entry_grow_table}: to the smallest size holding {@code atLeast} entries, within the maximum. */
    private boolean grow(int atLeast) {
        int i = sizeIndex;
        while (i < TABLE_SIZES.length && TABLE_SIZES[i] < atLeast) {
            i++;
        }
        if (i == sizeIndex) {
            i++;
        }
        if (i >= TABLE_SIZES.length || TABLE_SIZES[i] > maxEntries) {
            return false;
        }
        int old = objects.length;
        int size = TABLE_SIZES[i];
        sizeIndex = i;
        objects = Arrays.copyOf(objects, size);
        bits = Arrays.copyOf(bits, size);
        next = Arrays.copyOf(next, size);
        for (int k = old; k < size; k++) {
            bits[k] = IE_BITS_GEN_MASK;
            next[k] = k + 1 < size ? k + 1 : next[0];
        }
        next[0] = old;
        return true;
    }

    /** Makes spaces for new tasks. */
    interface Factory {
        IpcSpace create(Task task);
    }

    Integer reverseLookup(IpcPort port) {
        return reverse.get(port);
    }

    void setReverse(IpcPort port, int index) {
        reverse.put(port, index);
    }

    void clearReverse(IpcPort port) {
        reverse.remove(port);
    }

    /** The name of the entry at {@code index}. */
    int nameAt(int index) {
        return name(index, bits[index]);
    }
}
