package dev.kextharness.samples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Line numbers of the sample kexts' own source, so a test can say "the leak report names the
 * line of this call" without a number that goes stale whenever the kext is edited.
 */
public final class SourceLines {
    private static final Path MAIN_SOURCES = Path.of("src", "main", "java");

    private SourceLines() {
    }

    /** The 1-based line of {@code type}'s source file that contains {@code code}; it must occur exactly once. */
    public static int lineOf(Class<?> type, String code) {
        Path file = MAIN_SOURCES.resolve(type.getName().replace('.', '/') + ".java");
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file.toAbsolutePath()
                    + "; run the tests from the sample-kexts module directory", e);
        }
        int found = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(code)) {
                if (found >= 0) {
                    throw new IllegalArgumentException("\"" + code + "\" occurs more than once in " + file
                            + " (lines " + found + " and " + (i + 1) + "); quote more of the line");
                }
                found = i + 1;
            }
        }
        if (found < 0) {
            throw new IllegalArgumentException("\"" + code + "\" does not occur in " + file);
        }
        return found;
    }

    /** {@code Kext.method(Kext.java:line)}: how a leak report names the call site of {@code code}. */
    public static String location(Class<?> type, String method, String code) {
        return type.getSimpleName() + "." + method + "(" + type.getSimpleName() + ".java:" + lineOf(type, code) + ")";
    }
}
