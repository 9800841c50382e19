package dev.kextharness.samples.libkext;

import java.util.concurrent.atomic.AtomicLong;

import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc._FREE;
import static dev.kextharness.kpi.Malloc._MALLOC;
import static dev.kextharness.kpi.OSAtomic.OSDecrementAtomic64;
import static dev.kextharness.kpi.OSAtomic.OSIncrementAtomic64;
import static dev.kextharness.kpi.Systm.panic;

/**
 * libkext's counting allocator, from the source article: {@code _MALLOC} and {@code _FREE} wrapped
 * so that every block is counted, and {@code libkext_memck()}, called last in stop, panics if any
 * block is still outstanding. Its state is the kext's own: each load starts from zero.
 */
final class Libkext {
    /** C's {@code __LINE__} at the panic call in {@link #libkext_mref}, which the panic string prints. */
    static final int MREF_PANIC_LINE = 41;

    /** {@code static volatile SInt64 cnt}: blocks allocated and not yet freed. */
    private static final AtomicLong cnt = new AtomicLong();

    private Libkext() {
    }

    /** opt 0: one block freed; 1: one block allocated; 2: check that none is outstanding. */
    private static void libkext_mref(int opt) {
        switch (opt) {
            case 0 -> {
                if (OSDecrementAtomic64(cnt) > 0) return;
            }
            case 1 -> {
                if (OSIncrementAtomic64(cnt) >= 0) return;
            }
            case 2 -> {
                if (cnt.get() == 0) return;
            }
            default -> { }
        }
        panic("\n%s#L%d (potential memleak)  opt: %d cnt: %llu\n", "libkext_mref", MREF_PANIC_LINE, opt, cnt.get());
    }

    static long libkext_malloc(long size, int flags) {
        // _MALLOC's type parameter is a joke
        long addr = _MALLOC(size, M_TEMP, flags);
        if (addr != 0) libkext_mref(1);
        return addr;
    }

    static void libkext_mfree(long addr) {
        if (addr != 0) libkext_mref(0);
        _FREE(addr, M_TEMP);
    }

    /** Call when all memory has been freed: panics if a block is still outstanding. */
    static void libkext_memck() {
        libkext_mref(2);
    }
}
