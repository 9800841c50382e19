package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.LIBKERN;

/**
 * {@code <libkern/libkern.h>} and {@code <string.h>}: byte-string functions on kernel addresses.
 *
 * <p>Stability: stable.
 */
public final class Libkern {
    private Libkern() {
    }

    /** {@code void bzero(void *s, size_t n)}. */
    @Kpi(library = LIBKERN)
    public static void bzero(long s, long n) {
        throw Unlinked.call("bzero");
    }

    /** {@code void bcopy(const void *src, void *dst, size_t n)}: note the BSD argument order. */
    @Kpi(library = LIBKERN)
    public static void bcopy(long src, long dst, long n) {
        throw Unlinked.call("bcopy");
    }

    /** {@code void *memset(void *s, int c, size_t n)}: returns {@code s}. */
    @Kpi(library = LIBKERN)
    public static long memset(long s, int c, long n) {
        throw Unlinked.call("memset");
    }

    /**
     * {@code size_t strlcpy(char *dst, const char *src, size_t size)} with a Java string as the
     * source: copies at most {@code size - 1} bytes and NUL-terminates; returns the source length.
     */
    @Kpi(library = LIBKERN)
    public static long strlcpy(long dst, String src, long size) {
        throw Unlinked.call("strlcpy");
    }

    /** {@code size_t strlen(const char *s)}. */
    @Kpi(library = LIBKERN)
    public static long strlen(long s) {
        throw Unlinked.call("strlen");
    }
}
