package dev.kextharness.junit;

import dev.kextharness.kernel.ledger.CallSite;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A call site as an annotation names it, the way a report's {@code at} line prints it:
 * {@code "Class.method"}, {@code "File.java:line"} or {@code "Class.method(File.java:line)"},
 * the class by its simple, nested or binary name. The empty string matches every site.
 */
final class SitePattern {
    private static final Pattern FULL = Pattern.compile("(.+)\\.([^.()]+)\\((.+?)(?::(\\d+))?\\)");
    private static final Pattern FILE_LINE = Pattern.compile("([^:()]+\\.java):(\\d+)");
    private static final Pattern CLASS_METHOD = Pattern.compile("(.+)\\.([^.()]+)");

    static final SitePattern ANY = new SitePattern(null, null, null, -1);

    private final String className;
    private final String methodName;
    private final String fileName;
    private final int line;

    private SitePattern(String className, String methodName, String fileName, int line) {
        this.className = className;
        this.methodName = methodName;
        this.fileName = fileName;
        this.line = line;
    }

    /** Parses {@code site}; {@code where} names the annotation in the error that says how to write it. */
    static SitePattern parse(String site, String where) {
        String s = site.strip();
        if (s.isEmpty()) {
            return ANY;
        }
        Matcher m = FULL.matcher(s);
        if (m.matches()) {
            return new SitePattern(m.group(1), m.group(2), m.group(3), m.group(4) == null ? -1 : Integer.parseInt(m.group(4)));
        }
        m = FILE_LINE.matcher(s);
        if (m.matches()) {
            return new SitePattern(null, null, m.group(1), Integer.parseInt(m.group(2)));
        }
        m = CLASS_METHOD.matcher(s);
        if (m.matches() && !s.endsWith(".java")) {
            return new SitePattern(m.group(1), m.group(2), null, -1);
        }
        throw new ExtensionConfigurationException(where + ": '" + site + "' is not a call site; write "
                + "\"Class.method\", \"File.java:line\" or \"Class.method(File.java:line)\", as the report's "
                + "'at' line prints it");
    }

    boolean matches(CallSite site) {
        return site != null
                && (className == null || sameClass(site.className()))
                && (methodName == null || methodName.equals(site.methodName()))
                && (fileName == null || fileName.equals(site.fileName()))
                && (line < 0 || line == site.line());
    }

    /** A binary name matches itself, its simple name, and its innermost nested name. */
    private boolean sameClass(String binaryName) {
        String simple = binaryName.substring(binaryName.lastIndexOf('.') + 1);
        String innermost = simple.substring(simple.lastIndexOf('$') + 1);
        return className.equals(binaryName) || className.equals(simple) || className.equals(innermost);
    }
}
