package dev.kextharness.cli.project;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The names a new kext project takes from its bundle identifier: {@code com.example.kext-hello}
 * gives the Maven coordinates {@code com.example:kext-hello}, the directory {@code kext-hello},
 * the Java package {@code com.example.kext_hello} and the kext class {@code HelloKext}.
 *
 * @param bundleId   the kext's {@code CFBundleIdentifier}
 * @param groupId    every word of the bundle id but the last
 * @param artifactId the last word
 * @param javaPackage the bundle id as a Java package: lower case, hyphens as underscores
 * @param kextClass  the last word in CamelCase, a leading or trailing "kext" dropped, plus "Kext"
 * @param serviceClass the interface tests reach the kext through: the kext class without "Kext", plus "Service"
 */
public record ProjectNames(String bundleId, String groupId, String artifactId, String javaPackage, String kextClass,
                           String serviceClass) {

    /**
     * {@code kmod_info_t}'s name field is {@code char name[KMOD_MAX_NAME]} with {@code KMOD_MAX_NAME}
     * 64 (xnu: osfmk/mach/kmod.h), so a bundle id has at most 63 characters.
     */
    static final int MAX_BUNDLE_ID = 63;

    /** Reverse-DNS words of letters, digits and hyphens (what CFBundleIdentifier allows), two at least. */
    private static final Pattern BUNDLE_ID = Pattern.compile("[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+");

    private static final Set<String> JAVA_KEYWORDS = Set.of("abstract", "assert", "boolean", "break", "byte", "case",
            "catch", "char", "class", "const", "continue", "default", "do", "double", "else", "enum", "extends",
            "final", "finally", "float", "for", "goto", "if", "implements", "import", "instanceof", "int",
            "interface", "long", "native", "new", "package", "private", "protected", "public", "return", "short",
            "static", "strictfp", "super", "switch", "synchronized", "this", "throw", "throws", "transient", "try",
            "void", "volatile", "while", "true", "false", "null", "_");

    /** The names for {@code bundleId}, or an {@link IllegalArgumentException} saying what is wrong with it. */
    public static ProjectNames of(String bundleId) {
        if (bundleId.length() > MAX_BUNDLE_ID) {
            throw new IllegalArgumentException("bundle id '" + bundleId + "' has " + bundleId.length()
                    + " characters; XNU keeps at most " + MAX_BUNDLE_ID + " (kmod_info_t's name[KMOD_MAX_NAME])");
        }
        if (!BUNDLE_ID.matcher(bundleId).matches()) {
            throw new IllegalArgumentException("'" + bundleId + "' is not a bundle id: give two or more words of "
                    + "letters, digits and hyphens joined by dots, such as com.example.kext-hello");
        }
        String[] words = bundleId.split("\\.");
        String last = words[words.length - 1];
        String groupId = bundleId.substring(0, bundleId.length() - last.length() - 1);
        List<String> packageWords = new ArrayList<>();
        for (String word : words) {
            packageWords.add(javaIdentifier(word.toLowerCase(Locale.ROOT).replace('-', '_')));
        }
        String stem = camelCase(last);
        return new ProjectNames(bundleId, groupId, last, String.join(".", packageWords), stem + "Kext",
                stem + "Service");
    }

    /** {@code kext-hello} and {@code hello-kext} give {@code Hello}; a bare {@code kext} gives {@code My}. */
    private static String camelCase(String word) {
        List<String> parts = new ArrayList<>(List.of(word.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")));
        parts.removeIf(String::isEmpty);
        if (!parts.isEmpty() && parts.get(0).equals("kext")) {
            parts.remove(0);
        }
        if (!parts.isEmpty() && parts.get(parts.size() - 1).equals("kext")) {
            parts.remove(parts.size() - 1);
        }
        StringBuilder name = new StringBuilder();
        for (String part : parts) {
            name.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        if (name.isEmpty() || !Character.isLetter(name.charAt(0))) {
            name.insert(0, "My");
        }
        return name.toString();
    }

    private static String javaIdentifier(String word) {
        if (Character.isDigit(word.charAt(0))) {
            return "_" + word;
        }
        return JAVA_KEYWORDS.contains(word) ? word + "_" : word;
    }
}
