package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.LIBKERN;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code <libkern/OSAtomic.h>}: atomic arithmetic that returns the value <em>before</em> the
 * operation, as XNU's does. Each function comes in two forms; pick by where the counter lives:
 * <ul>
 * <li><b>A counter in kernel memory</b> (a field of a struct the kext allocated, such as a
 * refcount in a {@code _MALLOC}'d block): the {@code long address} forms, XNU's own signatures
 * with the pointer as a kernel address. They read and write simulated kernel memory through the
 * kernel that loaded the kext, with the same checks as {@link Mem} (a wild pointer page-faults),
 * so they work only inside a loaded kext. Like a RELEASE kernel they do not check alignment
 * ({@code ALIGN_TEST} in libkern/gen/OSAtomicOperations.c is compiled in only for DEBUG kernels,
 * and x86_64 performs a misaligned locked operation).</li>
 * <li><b>A counter in the kext's data segment</b> (C's {@code static volatile SInt64 cnt}, whose
 * address Java cannot take): the {@link AtomicLong} and {@link AtomicInteger} forms, with the
 * counter a static field of the kext (fresh on every load, as a kext's data segment is). They
 * need no kernel, so they work before linking too.</li>
 * </ul>
 *
 * <p>Stability: stable.
 */
public final class OSAtomic {
    private OSAtomic() {
    }

    /** {@code SInt64 OSIncrementAtomic64(volatile SInt64 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, symbol = "_OSAddAtomic64", bound = false)
    public static long OSIncrementAtomic64(AtomicLong address) {
        return address.getAndIncrement();
    }

    /** {@code SInt64 OSDecrementAtomic64(volatile SInt64 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, symbol = "_OSAddAtomic64", bound = false)
    public static long OSDecrementAtomic64(AtomicLong address) {
        return address.getAndDecrement();
    }

    /** {@code SInt64 OSAddAtomic64(SInt64 amount, volatile SInt64 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, bound = false)
    public static long OSAddAtomic64(long amount, AtomicLong address) {
        return address.getAndAdd(amount);
    }

    /** {@code SInt32 OSIncrementAtomic(volatile SInt32 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, bound = false)
    public static int OSIncrementAtomic(AtomicInteger address) {
        return address.getAndIncrement();
    }

    /** {@code SInt32 OSDecrementAtomic(volatile SInt32 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, bound = false)
    public static int OSDecrementAtomic(AtomicInteger address) {
        return address.getAndDecrement();
    }

    /** {@code SInt32 OSAddAtomic(SInt32 amount, volatile SInt32 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, bound = false)
    public static int OSAddAtomic(int amount, AtomicInteger address) {
        return address.getAndAdd(amount);
    }

    /** {@code Boolean OSCompareAndSwap64(UInt64 old, UInt64 new, volatile UInt64 *address)}. */
    @Kpi(library = LIBKERN, bound = false)
    public static boolean OSCompareAndSwap64(long oldValue, long newValue, AtomicLong address) {
        return address.compareAndSet(oldValue, newValue);
    }

    // The same functions on a counter in kernel memory: XNU's signatures, the pointer a kernel address.

    /** {@code SInt64 OSIncrementAtomic64(volatile SInt64 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, symbol = "_OSAddAtomic64")
    public static long OSIncrementAtomic64(long address) {
        throw Unlinked.call("OSIncrementAtomic64");
    }

    /** {@code SInt64 OSDecrementAtomic64(volatile SInt64 *address)}: returns the old value. */
    @Kpi(library = LIBKERN, symbol = "_OSAddAtomic64")
    public static long OSDecrementAtomic64(long address) {
        throw Unlinked.call("OSDecrementAtomic64");
    }

    /** {@code SInt64 OSAddAtomic64(SInt64 amount, volatile SInt64 *address)}: returns the old value. */
    @Kpi(library = LIBKERN)
    public static long OSAddAtomic64(long amount, long address) {
        throw Unlinked.call("OSAddAtomic64");
    }

    /**
     * {@code Boolean OSCompareAndSwap64(UInt64 oldValue, UInt64 newValue, volatile UInt64 *address)}:
     * stores {@code newValue} if the word at {@code address} is {@code oldValue}; true if it did.
     */
    @Kpi(library = LIBKERN)
    public static boolean OSCompareAndSwap64(long oldValue, long newValue, long address) {
        throw Unlinked.call("OSCompareAndSwap64");
    }

    /** {@code SInt32 OSIncrementAtomic(volatile SInt32 *address)}: returns the old value. */
    @Kpi(library = LIBKERN)
    public static int OSIncrementAtomic(long address) {
        throw Unlinked.call("OSIncrementAtomic");
    }

    /** {@code SInt32 OSDecrementAtomic(volatile SInt32 *address)}: returns the old value. */
    @Kpi(library = LIBKERN)
    public static int OSDecrementAtomic(long address) {
        throw Unlinked.call("OSDecrementAtomic");
    }

    /** {@code SInt32 OSAddAtomic(SInt32 amount, volatile SInt32 *address)}: returns the old value. */
    @Kpi(library = LIBKERN)
    public static int OSAddAtomic(int amount, long address) {
        throw Unlinked.call("OSAddAtomic");
    }

    /**
     * {@code Boolean OSCompareAndSwap(UInt32 oldValue, UInt32 newValue, volatile UInt32 *address)}:
     * the 32-bit values as their bit patterns; true if the swap happened.
     */
    @Kpi(library = LIBKERN)
    public static boolean OSCompareAndSwap(int oldValue, int newValue, long address) {
        throw Unlinked.call("OSCompareAndSwap");
    }
}
