package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.LIBKERN;

/**
 * {@code <sys/systm.h>} and {@code <kern/debug.h>}: kernel {@code printf} and {@code panic}. Both
 * take C format strings ({@code %d %u %lu %llu %x %#x %#llx %p %s %c %%}, widths and flags); a
 * {@code %s} argument is a Java {@code String} or the kernel address of a NUL-terminated string.
 *
 * <p>Stability: stable.
 */
public final class Systm {
    private Systm() {
    }

    /** {@code int printf(const char *format, ...)}: appends to the kernel log; returns the characters written. */
    @Kpi(library = LIBKERN)
    public static int printf(String format, Object... args) {
        throw Unlinked.call("printf");
    }

    /** {@code void panic(const char *format, ...)}: never returns. */
    @Kpi(library = LIBKERN)
    public static void panic(String format, Object... args) {
        throw Unlinked.call("panic");
    }
}
