package dev.kextharness.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A byte count as a user types it: {@code 4097}, {@code 512M}, {@code 32G}, {@code 12GiB}.
 * Suffixes are binary (K = 1024), as {@code sysctl hw.memsize} and the zone map sizes are.
 */
public final class ByteSize implements ITypeConverter<Long> {
    private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*(?:([KMGT])(?:I?B)?|B)?");
    /** What to type instead of something that is not a size. */
    static final String HINT = "give bytes, or a number with K, M, G or T (binary: 32G = 32 GiB)";

    @Override
    public Long convert(String value) {
        return parse(value);
    }

    /** The number of bytes {@code value} names. */
    public static long parse(String value) {
        Matcher m = SIZE.matcher(value.strip().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new TypeConversionException("'" + value + "' is not a size: " + HINT);
        }
        long number;
        try {
            number = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + value + "' is too large a size");
        }
        int shift = m.group(2) == null ? 0 : switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 40;
        };
        if (shift > 0 && number > (Long.MAX_VALUE >> shift)) {
            throw new TypeConversionException("'" + value + "' is too large a size");
        }
        return number << shift;
    }

    /** {@code 32G}, {@code 512M}, or plain bytes when not a whole number of units. */
    public static String format(long bytes) {
        String[] units = {"T", "G", "M", "K"};
        int[] shifts = {40, 30, 20, 10};
        for (int i = 0; i < units.length; i++) {
            if (bytes != 0 && bytes % (1L << shifts[i]) == 0) {
                return (bytes >> shifts[i]) + units[i];
            }
        }
        return Long.toString(bytes);
    }
}
