package dev.kextharness.kernel.printf;

import java.util.Objects;

/**
 * C {@code printf} formatting as XNU's kernel {@code printf}, {@code IOLog} and {@code panic} do it
 * on x86_64 (LP64), so that the simulated kernel's log lines match the real ones character for
 * character.
 *
 * <p>Conversions {@code d i u o x X c s p %}; flags {@code - + space # 0}; width and precision as
 * digits or {@code *}; length modifiers {@code hh h l ll q z j t L}. Java arguments stand in for C's
 * varargs:
 * <ul>
 *   <li>integer conversions take {@code Byte}, {@code Short}, {@code Integer}, {@code Long} or
 *       {@code Character} (its code), cut to the C type the length modifier names: {@code int} by
 *       default, so a {@code Long} given to {@code %x} prints its low 32 bits, as C would;
 *   <li>{@code %s} takes a {@code String} (any {@code CharSequence}), or a {@code Long} kernel
 *       address whose NUL-terminated string is read through the {@link CStringReader}; {@code null}
 *       or address 0 prints {@code (null)};
 *   <li>{@code %p} takes a {@code Long} address and prints it like macOS: {@code 0x} and lowercase
 *       hex, {@code 0x0} for NULL;
 *   <li>{@code %c} takes a {@code Character}, or an integer code of which the low 8 bits count.
 * </ul>
 * Where C would print garbage or crash (unknown conversion, missing argument, wrong kind of
 * argument) this throws {@link CFormatException}. Extra arguments are ignored, as in C.
 */
public final class CFormat {
    private static final Object[] NO_ARGS = {};
    private static final char[] LOWER = "0123456789abcdef".toCharArray();
    private static final char[] UPPER = "0123456789ABCDEF".toCharArray();
    private static final String CONVERSIONS = "diuoxXcsp%";
    /** Widths and precisions above this are surely a bug, and honouring them would only fill the heap. */
    static final int MAX_FIELD = 1 << 20;
    /** Room for the longest number: 64 bits in octal. */
    private static final int MAX_DIGITS = 22;

    private final String format;
    private final Object[] args;
    private final CStringReader memory;
    private final StringBuilder out;
    private int nextArg;
    private int conversionNo;
    private char[] digits;

    // The conversion being formatted: where it sits in the format, and what it asks for.
    private int specStart;
    private int specEnd;
    private boolean minus;
    private boolean plus;
    private boolean space;
    private boolean alt;
    private boolean zero;
    private int width;
    /** -1 when the conversion has no precision. */
    private int precision;
    /** Bits of the C integer type the length modifier names. */
    private int bits;

    private CFormat(String format, Object[] args, CStringReader memory) {
        this.format = format;
        this.args = args;
        this.memory = memory;
        this.out = new StringBuilder(format.length() + 16 * Math.min(args.length, 16));
    }

    /**
     * Formats without kernel memory: a {@code %s} whose argument is a non-zero address throws
     * {@link CFormatException}, because there is nothing to read the string from.
     */
    public static String format(String format, Object... args) {
        return format(format, args, null);
    }

    /**
     * Formats {@code args} by the C format string {@code format}.
     *
     * @param args   one argument per conversion (and per {@code *}); {@code null} means none
     * @param memory reads the string of a {@code %s} given an address; {@code null} means there is
     *               no kernel memory, so such a {@code %s} throws
     * @throws CFormatException if the format and arguments do not fit together
     */
    public static String format(String format, Object[] args, CStringReader memory) {
        Objects.requireNonNull(format, "format");
        if (format.indexOf('%') < 0) {
            return format;
        }
        CFormat f = new CFormat(format, args == null ? NO_ARGS : args, memory);
        f.run();
        return f.out.toString();
    }

    private void run() {
        String f = format;
        int n = f.length();
        int i = 0;
        while (i < n) {
            int pct = f.indexOf('%', i);
            if (pct < 0) {
                out.append(f, i, n);
                return;
            }
            out.append(f, i, pct);
            if (pct + 1 < n && f.charAt(pct + 1) == '%') {
                out.append('%');
                i = pct + 2;
            } else {
                i = conversion(pct);
            }
        }
    }

    /** Formats the conversion starting at the {@code %} at {@code start}; returns the index after it. */
    private int conversion(int start) {
        String f = format;
        int n = f.length();
        conversionNo++;
        specStart = start;
        minus = plus = space = alt = zero = false;
        int i = start + 1;
        flags:
        for (; i < n; i++) {
            switch (f.charAt(i)) {
                case '-': minus = true; break;
                case '+': plus = true; break;
                case ' ': space = true; break;
                case '#': alt = true; break;
                case '0': zero = true; break;
                default: break flags;
            }
        }
        boolean starWidth = i < n && f.charAt(i) == '*';
        int widthFrom = starWidth ? ++i : i;
        while (i < n && isDigit(f.charAt(i))) {
            i++;
        }
        int widthTo = i;
        boolean hasPrecision = i < n && f.charAt(i) == '.';
        boolean starPrecision = false;
        int precisionFrom = 0;
        int precisionTo = 0;
        if (hasPrecision) {
            i++;
            starPrecision = i < n && f.charAt(i) == '*';
            precisionFrom = starPrecision ? ++i : i;
            while (i < n && isDigit(f.charAt(i))) {
                i++;
            }
            precisionTo = i;
        }
        i = lengthModifier(i);
        if (i >= n) {
            specEnd = n;
            throw fail("is incomplete: the format ends before the conversion character;"
                    + " finish it (e.g. %d) or write %% for a literal percent sign");
        }
        char conv = f.charAt(i);
        specEnd = i + 1;
        if (CONVERSIONS.indexOf(conv) < 0) {
            throw unknownConversion(conv);
        }
        // Arguments are taken in C's order: the * width, the * precision, then the value.
        width = starWidth ? starWidth() : field(widthFrom, widthTo, "width");
        if (!hasPrecision) {
            precision = -1;
        } else if (starPrecision) {
            int p = intArg("precision");
            precision = p < 0 ? -1 : checkField(p, "precision"); // C: a negative * precision counts as none
        } else {
            precision = field(precisionFrom, precisionTo, "precision");
        }
        convert(conv);
        return specEnd;
    }

    /** Reads {@code hh h l ll q z j t L} at {@code i} into {@link #bits}; returns the index after it. */
    private int lengthModifier(int i) {
        String f = format;
        int n = f.length();
        bits = 32;
        if (i >= n) {
            return i;
        }
        switch (f.charAt(i)) {
            case 'h':
                if (i + 1 < n && f.charAt(i + 1) == 'h') {
                    bits = 8;
                    return i + 2;
                }
                bits = 16;
                return i + 1;
            case 'l':
                bits = 64; // long and long long are both 64 bits on LP64
                return i + 1 < n && f.charAt(i + 1) == 'l' ? i + 2 : i + 1;
            case 'q': case 'z': case 'j': case 't': case 'L':
                bits = 64;
                return i + 1;
            default:
                return i;
        }
    }

    private void convert(char conv) {
        switch (conv) {
            case 'd': case 'i': {
                long v = signed(integerArg());
                char sign = v < 0 ? '-' : plus ? '+' : space ? ' ' : 0;
                // -Long.MIN_VALUE is itself, which read as unsigned is the right magnitude.
                number(v < 0 ? -v : v, sign, 10, LOWER, "");
                break;
            }
            case 'u':
                number(unsigned(integerArg()), (char) 0, 10, LOWER, "");
                break;
            case 'o':
                number(unsigned(integerArg()), (char) 0, 8, LOWER, "");
                break;
            case 'x': {
                long v = unsigned(integerArg());
                number(v, (char) 0, 16, LOWER, alt && v != 0 ? "0x" : "");
                break;
            }
            case 'X': {
                long v = unsigned(integerArg());
                number(v, (char) 0, 16, UPPER, alt && v != 0 ? "0X" : "");
                break;
            }
            case 'p':
                number(pointerArg(), (char) 0, 16, LOWER, "0x");
                break;
            case 'c':
                padded(charArg());
                break;
            case 's':
                padded(stringArg());
                break;
            default: // '%' with flags or width, as in "%5%": C leaves it undefined; print the %
                conversionNo--;
                out.append('%');
                break;
        }
    }

    // ---- arguments

    private Object nextArg(String star) {
        if (nextArg >= args.length) {
            throw fail(star == null
                    ? "has no argument: pass one argument per conversion"
                    : "has no argument for its * " + star + ": pass the " + star + " as an Integer before the value");
        }
        return args[nextArg++];
    }

    private int starWidth() {
        int w = intArg("width");
        if (w < 0) { // C: a negative * width means left-justify
            minus = true;
            w = w == Integer.MIN_VALUE ? Integer.MAX_VALUE : -w;
        }
        return checkField(w, "width");
    }

    /** A {@code *} width or precision: a C {@code int}, which Short and Byte promote to. */
    private int intArg(String star) {
        Object a = nextArg(star);
        if (a instanceof Integer || a instanceof Short || a instanceof Byte) {
            return ((Number) a).intValue();
        }
        throw fail("takes its * " + star + " from an Integer, not " + describe(a) + ": pass the " + star + " as an Integer");
    }

    private long integerArg() {
        Object a = nextArg(null);
        if (a instanceof Integer || a instanceof Long || a instanceof Short || a instanceof Byte) {
            return ((Number) a).longValue();
        }
        if (a instanceof Character) {
            return (Character) a;
        }
        throw fail("takes an integer, not " + describe(a) + ": pass a Byte, Short, Integer, Long or Character"
                + (a instanceof Boolean ? " (C has no boolean argument: pass b ? 1 : 0)" : ""));
    }

    /** Sign-extends from the C type's width, as a signed conversion reads its argument. */
    private long signed(long v) {
        return bits == 64 ? v : (v << (64 - bits)) >> (64 - bits);
    }

    /** Zero-extends from the C type's width, as an unsigned conversion reads its argument. */
    private long unsigned(long v) {
        return bits == 64 ? v : v & ((1L << bits) - 1);
    }

    private long pointerArg() {
        Object a = nextArg(null);
        if (a instanceof Long) {
            return (Long) a;
        }
        if (a instanceof Integer) {
            return Integer.toUnsignedLong((Integer) a); // addresses are unsigned
        }
        if (a == null) {
            return 0;
        }
        throw fail("takes a pointer, not " + describe(a) + ": pass the address as a Long (or null for NULL)");
    }

    private CharSequence charArg() {
        Object a = nextArg(null);
        if (a instanceof Character) {
            return String.valueOf((char) (Character) a);
        }
        if (a instanceof Integer || a instanceof Long || a instanceof Short || a instanceof Byte) {
            // C converts the int to unsigned char; read the byte as Latin-1.
            return String.valueOf((char) (((Number) a).intValue() & 0xff));
        }
        throw fail("takes a character, not " + describe(a) + ": pass a Character or an integer character code");
    }

    private CharSequence stringArg() {
        Object a = nextArg(null);
        if (a instanceof CharSequence) {
            return (CharSequence) a;
        }
        if (a == null) {
            return "(null)";
        }
        if (a instanceof Long || a instanceof Integer) {
            long address = a instanceof Long ? (Long) a : Integer.toUnsignedLong((Integer) a);
            if (address == 0) {
                return "(null)";
            }
            if (memory == null) {
                throw fail("got kernel address 0x" + Long.toHexString(address) + " (argument " + nextArg
                        + ") but no kernel memory is available to read the string from:"
                        + " pass a String, or format with a CStringReader");
            }
            String s = memory.readCString(address);
            return s == null ? "(null)" : s;
        }
        throw fail("takes a string, not " + describe(a) + ": pass a String, a Long kernel address or null"
                + (a instanceof Character ? " (use %c for a Character)" : ""));
    }

    // ---- output

    /**
     * Prints an integer: sign, prefix, zeros up to the precision, digits, all padded to the width.
     * {@code magnitude} is unsigned.
     */
    private void number(long magnitude, char sign, int base, char[] digitSet, String prefix) {
        if (digits == null) {
            digits = new char[MAX_DIGITS];
        }
        // C: precision 0 prints no digits at all for the value 0.
        int first = magnitude == 0 && precision == 0 ? MAX_DIGITS : toDigits(magnitude, base, digitSet);
        int count = MAX_DIGITS - first;
        int zeros = precision > count ? precision - count : 0;
        // C: # with o makes the first digit a 0, adding one only if there is none.
        if (base == 8 && alt && zeros == 0 && (magnitude != 0 || count == 0)) {
            zeros = 1;
        }
        int pad = width - ((sign != 0 ? 1 : 0) + prefix.length() + zeros + count);
        // C: the 0 flag yields to - and to an explicit precision.
        boolean zeroPad = zero && !minus && precision < 0;
        if (!minus && !zeroPad) {
            repeat(' ', pad);
        }
        if (sign != 0) {
            out.append(sign);
        }
        out.append(prefix);
        if (zeroPad) {
            repeat('0', pad);
        }
        repeat('0', zeros);
        out.append(digits, first, count);
        if (minus) {
            repeat(' ', pad);
        }
    }

    /** Writes {@code v} (unsigned) right-aligned into {@link #digits}; returns the first index used. */
    private int toDigits(long v, int base, char[] digitSet) {
        char[] d = digits;
        int i = MAX_DIGITS;
        if (base == 10) {
            if (v < 0) { // above Long.MAX_VALUE: one unsigned step brings it into signed range
                long q = Long.divideUnsigned(v, 10);
                d[--i] = digitSet[(int) (v - q * 10)];
                v = q;
            }
            do {
                d[--i] = digitSet[(int) (v % 10)];
                v /= 10;
            } while (v != 0);
        } else {
            int shift = base == 16 ? 4 : 3;
            int mask = base - 1;
            do {
                d[--i] = digitSet[(int) v & mask];
                v >>>= shift;
            } while (v != 0);
        }
        return i;
    }

    /** Prints {@code %c} or {@code %s}: cut to the precision, padded with spaces (never zeros) to the width. */
    private void padded(CharSequence s) {
        int len = precision >= 0 ? Math.min(precision, s.length()) : s.length();
        int pad = width - len;
        if (!minus) {
            repeat(' ', pad);
        }
        out.append(s, 0, len);
        if (minus) {
            repeat(' ', pad);
        }
    }

    private void repeat(char c, int times) {
        for (int k = 0; k < times; k++) {
            out.append(c);
        }
    }

    // ---- parsing helpers and errors

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Parses the digits in {@code [from, to)}; none means 0, which C reads as "no width" or precision 0. */
    private int field(int from, int to, String what) {
        int v = 0;
        for (int i = from; i < to; i++) {
            v = checkField(v * 10 + (format.charAt(i) - '0'), what);
        }
        return v;
    }

    private int checkField(int v, String what) {
        if (v > MAX_FIELD) {
            throw fail("has a " + what + " over " + MAX_FIELD + ": no log line needs that; use a smaller " + what);
        }
        return v;
    }

    private CFormatException unknownConversion(char conv) {
        boolean floating = "fFeEgGaA".indexOf(conv) >= 0;
        return fail("uses unknown conversion character " + quoteChar(conv)
                + ": use one of d i u o x X c s p, or %% for a percent sign"
                + (floating ? " (the kernel printf has no floating point)" : ""));
    }

    private CFormatException fail(String what) {
        return new CFormatException("printf format " + quote(format) + ": conversion " + conversionNo
                + " (" + format.substring(specStart, specEnd) + ") " + what);
    }

    /** Names an argument for a message: its 1-based position, type and (shortened) value. */
    private String describe(Object a) {
        String where = "argument " + nextArg;
        if (a == null) {
            return where + " (null)";
        }
        String value = a instanceof CharSequence ? quote(a.toString())
                : a instanceof Character ? quoteChar((Character) a)
                : String.valueOf(a);
        if (value.length() > 40) {
            value = value.substring(0, 37) + "...";
        }
        return where + " (" + a.getClass().getSimpleName() + " " + value + ")";
    }

    /** The format as a C string literal, so newlines and quotes in it stay readable in one line. */
    private static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 8).append('"');
        for (int i = 0; i < s.length(); i++) {
            appendEscaped(b, s.charAt(i), '"');
        }
        return b.append('"').toString();
    }

    private static String quoteChar(char c) {
        StringBuilder b = new StringBuilder(6).append('\'');
        appendEscaped(b, c, '\'');
        return b.append('\'').toString();
    }

    private static void appendEscaped(StringBuilder b, char c, char quote) {
        switch (c) {
            case '\n': b.append("\\n"); break;
            case '\t': b.append("\\t"); break;
            case '\r': b.append("\\r"); break;
            case '\\': b.append("\\\\"); break;
            default:
                if (c == quote) {
                    b.append('\\').append(c);
                } else if (c < 0x20 || c == 0x7f) {
                    b.append("\\x").append(LOWER[c >> 4]).append(LOWER[c & 0xf]);
                } else {
                    b.append(c);
                }
        }
    }
}
