package dev.kextharness.kpi;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code <libkern/OSAtomic.h>}: atomic arithmetic that returns the value <em>before</em> the
 * operation, as XNU's does. A C {@code static volatile SInt64 cnt} is spelled as a static
 * {@link AtomicLong} field of the kext (fresh on every load, as a kext's data segment is).
 *
 * <p>These functions need no kernel, so they work before linking too. Stability: stable.
 */
public final class OSAtomic {
    private OSAtomic() {
    }

    /** {@code SInt64 OSIncrementAtomic64(volatile SInt64 *address)}: returns the old value. */
    public static long OSIncrementAtomic64(AtomicLong address) {
        return address.getAndIncrement();
    }

    /** {@code SInt64 OSDecrementAtomic64(volatile SInt64 *address)}: returns the old value. */
    public static long OSDecrementAtomic64(AtomicLong address) {
        return address.getAndDecrement();
    }

    /** {@code SInt64 OSAddAtomic64(SInt64 amount, volatile SInt64 *address)}: returns the old value. */
    public static long OSAddAtomic64(long amount, AtomicLong address) {
        return address.getAndAdd(amount);
    }

    /** {@code SInt32 OSIncrementAtomic(volatile SInt32 *address)}: returns the old value. */
    public static int OSIncrementAtomic(AtomicInteger address) {
        return address.getAndIncrement();
    }

    /** {@code SInt32 OSDecrementAtomic(volatile SInt32 *address)}: returns the old value. */
    public static int OSDecrementAtomic(AtomicInteger address) {
        return address.getAndDecrement();
    }

    /** {@code SInt32 OSAddAtomic(SInt32 amount, volatile SInt32 *address)}: returns the old value. */
    public static int OSAddAtomic(int amount, AtomicInteger address) {
        return address.getAndAdd(amount);
    }

    /** {@code Boolean OSCompareAndSwap64(UInt64 old, UInt64 new, volatile UInt64 *address)}. */
    public static boolean OSCompareAndSwap64(long oldValue, long newValue, AtomicLong address) {
        return address.compareAndSet(oldValue, newValue);
    }
}
