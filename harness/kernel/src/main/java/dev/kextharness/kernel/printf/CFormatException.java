package dev.kextharness.kernel.printf;

/**
 * A C format string and its arguments do not fit together: an unknown conversion, a missing
 * argument, or an argument of the wrong kind. Where C would print garbage or crash, the harness
 * stops with a message naming the format, the conversion and what to change.
 */
public final class CFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public CFormatException(String message) {
        super(message);
    }
}
