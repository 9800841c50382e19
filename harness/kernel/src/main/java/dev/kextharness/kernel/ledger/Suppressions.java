package dev.kextharness.kernel.ledger;

import org.apiguardian.api.API;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Known leaks and findings to accept, after Valgrind's and LeakSanitizer's suppressions: a file of
 * named blocks, each selecting what a leak report would otherwise list, by kind, kext, call-site
 * signature and allocator family. What a suppression matches is left out of the verdict and
 * counted in the report's "suppressed" section instead.
 *
 * <pre>
 * # comments start with '#'
 * {
 *    memleak-start-buffer
 *    kind: leak
 *    kext: cn.junkman.kext-memleak
 *    site: cn.junkman.kext-memleak|_MALLOC|cn.junkman.MemleakKext.start
 *    family: _MALLOC
 * }
 * </pre>
 *
 * The first line of a block is its name; then {@code key: value} lines. {@code kind} is required:
 * {@code leak} (allocations outstanding at unload), {@code port-right} (a right held at unload),
 * a finding kind ({@code size-mismatch}, {@code cross-family-free}, {@code tag-mismatch},
 * {@code large-free-mismatch}, {@code lingering-registration}), {@code finding} for any finding,
 * or {@code *} for anything. {@code kext}, {@code site} (the report's {@link CallSite#signature()
 * signature}, which has no line number and so survives edits elsewhere in the file) and
 * {@code family} (the allocator, {@code _MALLOC}, or its enum name, {@code MALLOC}) narrow it; a
 * key left out matches anything, and {@code *} in a value matches any run of characters. The
 * first suppression that matches an item takes it. {@link #generate} writes blocks in this format
 * for what a report found, ready to paste.
 *
 * <p>The format is Valgrind's block layout with named keys instead of positional frames: a
 * Valgrind or LSan user recognises it, {@code --gen-suppressions} output pastes into it, and a
 * diff of it reads as a list of decisions. Immutable and thread-safe.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
public final class Suppressions {
    /** The kind of an allocation outstanding at unload. */
    public static final String LEAK = "leak";
    /** The kind of a port right held at unload. */
    public static final String PORT_RIGHT = "port-right";
    /** Matches every finding kind. */
    public static final String ANY_FINDING = "finding";

    private static final Set<String> KEYS = Set.of("kind", "kext", "site", "family");
    private static final Pattern KEY_LINE = Pattern.compile("(kind|kext|site|family)\\s*:");

    /**
     * One named suppression.
     *
     * @param name   its name, as the report's "suppressed" section prints it
     * @param kind   what it matches ({@code leak}, {@code port-right}, a finding kind, {@code finding}, {@code *})
     * @param kext   a bundle-identifier pattern, or null for any kext
     * @param site   a call-site signature pattern, or null for any site
     * @param family an allocator name ({@code _MALLOC}), or null for any family
     * @param origin where it was read ({@code file:line}), for messages
     */
    public record Suppression(String name, String kind, String kext, String site, String family, String origin) {
        boolean matches(String itemKind, String itemKext, CallSite itemSite) {
            if (!kind.equals("*") && !kind.equals(itemKind)
                    && !(kind.equals(ANY_FINDING) && !itemKind.equals(LEAK) && !itemKind.equals(PORT_RIGHT))) {
                return false;
            }
            if (kext != null && !glob(kext, itemKext)) {
                return false;
            }
            if (site != null && (itemSite == null || !glob(site, itemSite.signature()))) {
                return false;
            }
            return family == null || itemSite != null && family.equals(itemSite.family().allocator());
        }
    }

    /**
     * How often one suppression matched.
     *
     * @param name  the suppression's name
     * @param kind  the suppression's kind
     * @param count items it took: allocations for a leak, rights, findings
     * @param bytes bytes requested by the allocations it took (0 for other kinds)
     */
    public record Use(String name, String kind, long count, long bytes) {
        Use plus(long moreCount, long moreBytes) {
            return new Use(name, kind, count + moreCount, bytes + moreBytes);
        }
    }

    private static final Suppressions NONE = new Suppressions(List.of());

    private final List<Suppression> entries;

    private Suppressions(List<Suppression> entries) {
        this.entries = List.copyOf(entries);
    }

    /** No suppressions: every leak and finding counts. */
    public static Suppressions none() {
        return NONE;
    }

    public static Suppressions of(List<Suppression> entries) {
        return new Suppressions(entries);
    }

    public List<Suppression> entries() {
        return entries;
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** Reads a suppressions file; a malformed one fails with its name and line and what to write instead. */
    public static Suppressions read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the suppressions file " + file + ": " + e.getMessage()
                    + "; give the path of a readable text file (write one with --gen-suppressions)", e);
        }
        return parse(text, file.toString());
    }

    /** Parses suppressions; {@code source} names the text in messages. */
    public static Suppressions parse(String text, String source) {
        List<Suppression> out = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        String[] lines = text.split("\r?\n", -1);
        int i = 0;
        while (i < lines.length) {
            String line = lines[i].strip();
            i++;
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int start = i;
            if (!line.equals("{")) {
                throw malformed(source, start, "expected '{' to open a suppression, found '" + line + "'");
            }
            String name = null;
            Map<String, String> fields = new LinkedHashMap<>();
            boolean closed = false;
            while (i < lines.length) {
                String l = lines[i].strip();
                i++;
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                if (l.equals("}")) {
                    closed = true;
                    break;
                }
                if (name == null) {
                    if (KEY_LINE.matcher(l).lookingAt() || l.equals("{")) {
                        throw malformed(source, i, "a suppression starts with its name on a line of its own, "
                                + "found '" + l + "'");
                    }
                    name = l;
                    continue;
                }
                int colon = l.indexOf(':');
                String key = colon < 0 ? l : l.substring(0, colon).strip();
                if (colon < 0 || !KEYS.contains(key)) {
                    throw malformed(source, i, "'" + l + "' is not a 'key: value' line with a key among kind, kext, "
                            + "site, family");
                }
                String value = l.substring(colon + 1).strip();
                if (value.isEmpty() || fields.put(key, value) != null) {
                    throw malformed(source, i, (value.isEmpty() ? "an empty " : "a second ") + key
                            + " in suppression '" + name + "'");
                }
            }
            if (!closed) {
                throw malformed(source, start, "the suppression opened here is never closed with '}'");
            }
            if (name == null) {
                throw malformed(source, start, "the suppression opened here has no name");
            }
            if (!names.add(name)) {
                throw malformed(source, start, "a second suppression named '" + name + "': give each its own name");
            }
            String kind = fields.get("kind");
            if (kind == null) {
                throw malformed(source, start, "suppression '" + name + "' has no kind: add 'kind: leak' (or "
                        + kinds() + ")");
            }
            kind = kind.toLowerCase(Locale.ROOT);
            if (!validKind(kind)) {
                throw malformed(source, start, "suppression '" + name + "' has kind '" + fields.get("kind")
                        + "'; the kinds are " + kinds());
            }
            String family = fields.get("family");
            if (family != null) {
                family = familyName(family);
                if (family == null) {
                    throw malformed(source, start, "suppression '" + name + "' has family '" + fields.get("family")
                            + "'; the families are the allocators " + families());
                }
            }
            out.add(new Suppression(name, kind, fields.get("kext"), fields.get("site"), family, source + ":" + start));
        }
        return new Suppressions(out);
    }

    /**
     * Applies the suppressions to a report: what one matches is taken out of the outstanding
     * allocations, findings and held rights, and counted in the result's
     * {@link LeakReport#suppressed()}.
     */
    public LeakReport apply(LeakReport report) {
        if (entries.isEmpty()) {
            return report;
        }
        Map<String, Use> uses = new LinkedHashMap<>();
        report.suppressed().forEach(u -> uses.put(u.name(), u));
        String kext = report.bundleId();
        LedgerSnapshot outstanding = report.outstanding().filter(g -> {
            Suppression s = first(LEAK, g.site().bundleId(), g.site());
            if (s == null) {
                return true;
            }
            count(uses, s, g.count(), g.requestedBytes());
            return false;
        });
        List<Finding> findings = new ArrayList<>();
        for (Finding f : report.findings()) {
            Suppression s = first(kindName(f.kind()), kext, f.site());
            if (s == null) {
                findings.add(f);
            } else {
                count(uses, s, 1, 0);
            }
        }
        List<HeldPortRight> rights = new ArrayList<>();
        for (HeldPortRight r : report.heldRights()) {
            Suppression s = first(PORT_RIGHT, kext, r.site());
            if (s == null) {
                rights.add(r);
            } else {
                count(uses, s, 1, 0);
            }
        }
        return new LeakReport(kext, outstanding, findings, rights, List.copyOf(uses.values()));
    }

    private Suppression first(String kind, String kext, CallSite site) {
        for (Suppression s : entries) {
            if (s.matches(kind, kext, site)) {
                return s;
            }
        }
        return null;
    }

    private static void count(Map<String, Use> uses, Suppression s, long count, long bytes) {
        uses.merge(s.name(), new Use(s.name(), s.kind(), count, bytes), (a, b) -> a.plus(b.count(), b.bytes()));
    }

    /**
     * Suppressions for everything the report still counts against its kext, one per kind and
     * site, in this class's format: what {@code --gen-suppressions} prints.
     */
    public static String generate(LeakReport report) {
        Map<String, String> blocks = new LinkedHashMap<>();
        for (LedgerSnapshot.Group g : report.outstanding().groups()) {
            blocks.putIfAbsent(LEAK + g.site().signature(), block(LEAK, g.site().bundleId(), g.site()));
        }
        for (HeldPortRight r : report.heldRights()) {
            blocks.putIfAbsent(PORT_RIGHT + r.site().signature(), block(PORT_RIGHT, report.bundleId(), r.site()));
        }
        for (Finding f : report.findings()) {
            String kind = kindName(f.kind());
            blocks.putIfAbsent(kind + (f.site() == null ? "" : f.site().signature()),
                    block(kind, report.bundleId(), f.site()));
        }
        return String.join("", blocks.values());
    }

    private static String block(String kind, String kext, CallSite site) {
        StringBuilder sb = new StringBuilder("{\n   ");
        String where = site == null ? "" : "/" + simpleName(site.className()) + "." + site.methodName();
        sb.append(kext).append('/').append(kind).append(where).append('\n');
        sb.append("   kind: ").append(kind).append('\n');
        sb.append("   kext: ").append(kext).append('\n');
        if (site != null) {
            sb.append("   site: ").append(site.signature()).append('\n');
            if (!site.family().allocator().isEmpty()) {
                sb.append("   family: ").append(site.family().allocator()).append('\n');
            }
        }
        return sb.append("}\n").toString();
    }

    /** A finding kind as a suppression names it: {@code SIZE_MISMATCH} is {@code size-mismatch}. */
    public static String kindName(Finding.Kind kind) {
        return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    private static boolean validKind(String kind) {
        if (kind.equals("*") || kind.equals(LEAK) || kind.equals(PORT_RIGHT) || kind.equals(ANY_FINDING)) {
            return true;
        }
        for (Finding.Kind k : Finding.Kind.values()) {
            if (kindName(k).equals(kind)) {
                return true;
            }
        }
        return false;
    }

    private static String kinds() {
        StringBuilder sb = new StringBuilder(LEAK + ", " + PORT_RIGHT);
        for (Finding.Kind k : Finding.Kind.values()) {
            sb.append(", ").append(kindName(k));
        }
        return sb.append(", ").append(ANY_FINDING).append(" (any finding) or * (anything)").toString();
    }

    private static String familyName(String value) {
        for (Family f : Family.values()) {
            if (!f.allocator().isEmpty() && (f.allocator().equals(value) || f.name().equalsIgnoreCase(value))) {
                return f.allocator();
            }
        }
        return null;
    }

    private static String families() {
        StringBuilder sb = new StringBuilder();
        for (Family f : Family.values()) {
            if (!f.allocator().isEmpty()) {
                sb.append(sb.length() == 0 ? "" : ", ").append(f.allocator());
            }
        }
        return sb.toString();
    }

    private static String simpleName(String className) {
        return className.substring(className.lastIndexOf('.') + 1);
    }

    private static boolean glob(String pattern, String value) {
        if (!pattern.contains("*")) {
            return pattern.equals(value);
        }
        StringBuilder regex = new StringBuilder();
        for (String part : pattern.split("\\*", -1)) {
            regex.append(regex.length() == 0 && part.isEmpty() ? "" : Pattern.quote(part)).append(".*");
        }
        regex.setLength(regex.length() - 2);
        return Pattern.matches(regex.toString(), value);
    }

    private static IllegalArgumentException malformed(String source, int line, String what) {
        return new IllegalArgumentException(source + ":" + line + ": " + what
                + ". A suppression reads:\n{\n   <name>\n   kind: leak\n   kext: <bundle id>\n   site: <signature>\n}");
    }
}
