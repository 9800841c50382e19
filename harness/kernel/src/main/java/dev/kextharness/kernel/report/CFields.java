package dev.kextharness.kernel.report;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * The few C {@code printf} behaviours that {@link String#format} does not reproduce, for the text
 * renderers of this package and of {@code dev.kextharness.kernel.panic}: unsigned 64-bit values,
 * the {@code #} flag (no {@code 0x} before a zero), the kernel's {@code %p}, and {@code %.Nf}
 * rounding. Padding helpers count characters, as C counts bytes of ASCII text.
 *
 * <p>Stability: internal; shared by the renderers, not part of the kernel's API.
 */
public final class CFields {

    private CFields() {
    }

    /** {@code %llu}: the value read as unsigned 64-bit. */
    public static String unsigned(long value) {
        return Long.toUnsignedString(value);
    }

    /** Unsigned division, as C divides {@code uint64_t}. */
    public static long udiv(long value, long divisor) {
        return Long.divideUnsigned(value, divisor);
    }

    /** {@code %#llx}: {@code 0x} and lower-case hex, but a bare {@code 0} for zero. */
    public static String altHex(long value) {
        return value == 0 ? "0" : "0x" + Long.toHexString(value);
    }

    /**
     * The kernel's {@code %p} ({@code osfmk/kern/printf.c}): like {@code %#lx}, so a NULL pointer
     * prints as {@code 0}, not {@code 0x0}.
     */
    public static String pointer(long value) {
        return altHex(value);
    }

    /** {@code 0x%0Nllx}: hex zero-padded to {@code digits}. */
    public static String zeroPaddedHex(long value, int digits) {
        String hex = Long.toHexString(value);
        return "0x" + "0".repeat(Math.max(0, digits - hex.length())) + hex;
    }

    /**
     * {@code %.Nf}: C rounds the exact binary value half-to-even, where {@code String.format}
     * rounds its decimal string half-up (0.125 gives "0.12" in C, "0.13" in Java).
     */
    public static String fixed(double value, int decimals) {
        return new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN).toPlainString();
    }

    /** A {@code uint64_t} converted to {@code double}, as C converts it. */
    public static double unsignedToDouble(long value) {
        if (value >= 0) {
            return value;
        }
        // Halve (keeping the low bit so rounding stays right), convert, double again.
        return ((value >>> 1) | (value & 1)) * 2.0;
    }

    /** {@code %Ns}: right-aligned in {@code width}, never truncated. */
    public static String right(String text, int width) {
        int pad = width - text.length();
        return pad <= 0 ? text : " ".repeat(pad) + text;
    }

    /** {@code %-Ns}: left-aligned in {@code width}, never truncated. */
    public static String left(String text, int width) {
        int pad = width - text.length();
        return pad <= 0 ? text : text + " ".repeat(pad);
    }
}
