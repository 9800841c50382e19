package dev.kextharness.kernel.printf;

/**
 * Reads a C string out of simulated kernel memory, so {@link CFormat} can print a {@code %s} whose
 * argument is a kernel address rather than a Java {@code String}.
 */
@FunctionalInterface
public interface CStringReader {
    /**
     * Returns the characters at {@code address} up to (not including) the first NUL byte.
     * {@code address} is never 0: {@link CFormat} prints {@code (null)} for NULL itself.
     */
    String readCString(long address);
}
