package dev.kextharness.kernel.report;

import static dev.kextharness.kernel.report.CFields.left;
import static dev.kextharness.kernel.report.CFields.right;
import static dev.kextharness.kernel.report.CFields.udiv;
import static dev.kextharness.kernel.report.CFields.unsigned;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Catalina's {@code zprint} (system_cmds-854, column format), rendered from immutable rows.
 *
 * <p>Output order, as zprint prints it: the zone header (only if a zone matches the filter),
 * one row per matching zone, the wired-memory report ({@code -l}), then the ZONE TOTALS block
 * ({@code -w} or {@code -t}, headers on). Choices where the fact sheet is silent or the input
 * carries less than {@code mach_memory_info()}:
 * <ul>
 *   <li>ZONE TOTALS sums the zones only: zprint adds the wired sites to the same total while it
 *       prints the "total" line and restores the zone total afterwards.</li>
 *   <li>As zprint computes them: the "zones" line is the cur size of the zones printed; the
 *       "total" line is that plus the cur size of each wired (non-zone) site printed, "of" the
 *       kernel's wired total ({@code VM_KERN_COUNT_WIRED}). A zone site's bytes are already in
 *       its zone, so they are not added again; its elements (cur size / element size of its
 *       zone, printed or not) count in the "zone tags" line, "of" the elements in use in the
 *       zones printed. The {@code maps} section needs mapped sizes, which a site does not carry,
 *       so it is not printed.</li>
 *   <li>{@code -s} reproduces zprint's exchange sort of the zones (ties keep zprint's order);
 *       sites are sorted by name with digit runs compared as numbers
 *       ({@code kCFCompareNumerically}), or by size with {@code -s}; equal keys keep input order
 *       where zprint's {@code qsort_r} leaves it unspecified.</li>
 *   <li>A zone with element size 0 shows 0 elements where zprint would divide by zero.</li>
 * </ul>
 *
 * <p>Stability: stable.
 */
public final class Zprint {

    private static final long KIB = 1024;
    private static final long MIB = 1024 * 1024;
    /** Above this many KiB zprint prints "-------" for the maximum size and element count. */
    private static final long PREPOSTEROUS_MAX_KIB = 9_999_999;
    private static final String NO_MAX = "-------";
    private static final String RULE = "-".repeat(109) + "\n";
    private static final String WIRED_HEADER = RULE
            + "                                                               kmod          vm        peak               cur\n"
            + "wired memory                                                     id         tag        size  waste       size\n"
            + RULE;

    /** A column of the zone table: two header lines, a width, an alignment. */
    private record Column(String line1, String line2, int width, boolean leftAligned) {
    }

    private static final List<Column> COLUMNS = List.of(
            new Column("", "zone name", 25, true),
            new Column("elem", "size", 6, false),
            new Column("cur", "size", 11, false),
            new Column("max", "size", 11, false),
            new Column("cur", "#elts", 10, false),
            new Column("max", "#elts", 11, false),
            new Column("cur", "inuse", 11, false),
            new Column("alloc", "size", 6, false),
            new Column("alloc", "count", 6, false),
            new Column("", "", 2, false));
    private static final Column FRAG_SIZE = new Column("frag", "size", 9, false);
    private static final Column FREE_SIZE = new Column("free", "size", 9, false);
    private static final Column TOTAL_ALLOCS = new Column("total", "allocs", 17, false);

    private Zprint() {
    }

    /** zprint with {@code -L}, or with no allocation sites to report. */
    public static String render(List<ZoneRow> zones, ZprintOptions options) {
        return render(zones, List.of(), 0, options);
    }

    /**
     * The whole zprint output.
     *
     * @param zones      the zones in the kernel's order
     * @param sites      the wired-memory allocation sites (used with {@code -l})
     * @param wiredBytes the kernel's wired total ({@code VM_KERN_COUNT_WIRED}), the second
     *                   figure of the "total" line
     * @param options    the command-line options
     */
    public static String render(List<ZoneRow> zones, List<WiredSite> sites, long wiredBytes, ZprintOptions options) {
        Objects.requireNonNull(zones, "zones");
        Objects.requireNonNull(sites, "sites");
        Objects.requireNonNull(options, "options");

        List<ZoneRow> ordered = options.sortByWaste() ? sortByWaste(zones) : zones;
        List<ZoneRow> shown = ordered.stream().filter(zone -> options.matches(zone.name())).toList();

        StringBuilder out = new StringBuilder(128 * (shown.size() + sites.size() + 8));
        Totals totals = new Totals();
        if (!shown.isEmpty()) {
            if (!options.hideHeaders()) {
                out.append(header(options));
            }
            for (ZoneRow zone : shown) {
                out.append(row(zone, options));
                totals.add(zone);
            }
        }
        if (options.wiredReport()) {
            appendWiredReport(out, sites, wiredBytes, zones, totals, options);
        }
        if ((options.wasted() || options.totals()) && !options.hideHeaders()) {
            appendZoneTotals(out, totals, options);
        }
        return out.toString();
    }

    /** The three header lines of the zone table for these options. */
    public static String header(ZprintOptions options) {
        List<Column> columns = columns(options);
        StringBuilder line1 = new StringBuilder();
        StringBuilder line2 = new StringBuilder();
        int width = 0;
        for (Column column : columns) {
            line1.append(align(column, column.line1())).append(' ');
            line2.append(align(column, column.line2())).append(' ');
            width += column.width() + 1;
        }
        return line1 + "\n" + line2 + "\n" + "-".repeat(width) + "\n";
    }

    /** One zone's row, newline included. */
    public static String row(ZoneRow zone, ZprintOptions options) {
        long elem = zone.elemSize();
        boolean noMax = Long.compareUnsigned(udiv(zone.maxSize(), KIB), PREPOSTEROUS_MAX_KIB) > 0;
        StringBuilder row = new StringBuilder(160);
        row.append(zoneName(zone.name()));
        row.append(' ').append(right(unsigned(elem), 6));
        row.append(' ').append(kib(zone.curSize(), 11));
        row.append(' ').append(noMax ? right(NO_MAX, 11) : kib(zone.maxSize(), 11));
        row.append(' ').append(right(unsigned(per(zone.curSize(), elem)), 10));
        row.append(' ').append(right(noMax ? NO_MAX : unsigned(per(zone.maxSize(), elem)), 11));
        row.append(' ').append(right(unsigned(zone.count()), 11));
        row.append(' ').append(kib(zone.allocSize(), 6));
        row.append(' ').append(right(unsigned(per(zone.allocSize(), elem)), 6));
        row.append(' ').append(zone.exhaustible() ? 'X' : ' ').append(zone.collectable() ? 'C' : ' ');
        if (options.wasted()) {
            row.append(' ').append(bytesOrKib(fragmented(zone), FRAG_SIZE.width()));
            row.append(' ').append(bytesOrKib(zone.freeBytes(), FREE_SIZE.width()));
        }
        if (options.totals()) {
            row.append(' ').append(bytesOrKib(zone.sumSize(), TOTAL_ALLOCS.width()));
        }
        return row.append('\n').toString();
    }

    /** zprint's usage text ({@code -h} prints it to stdout, a bad argument to stderr). */
    public static String usage(String progName) {
        return "usage: " + progName + " [-w] [-s] [-c] [-h] [-H] [-t] [-d] [-l] [-L] [name]\n\n"
                + "\t-w\tshow wasted memory for each zone\n"
                + "\t-s\tsort zones by wasted memory\n"
                + "\t-c\t(default) display output formatted in columns\n"
                + "\t-h\tdisplay this help message\n"
                + "\t-H\thide column names\n"
                + "\t-t\tdisplay the total size of allocations over the life of the zone\n"
                + "\t-d\tdisplay deltas over time\n"
                + "\t-l\t(default) display wired memory info after zone info\n"
                + "\t-L\tdo not show wired memory info, only show zone info\n"
                + "\nAny option (including default options) can be overridden by specifying the option in upper-case.\n\n";
    }

    /** Spaces become dots; past 24 characters the name is cut and marked with {@code $}. */
    static String zoneName(String name) {
        String dotted = name.replace(' ', '.');
        return dotted.length() > 24 ? dotted.substring(0, 24) + "$" : left(dotted, 25);
    }

    private static List<Column> columns(ZprintOptions options) {
        List<Column> columns = new ArrayList<>(COLUMNS);
        if (options.wasted()) {
            columns.add(FRAG_SIZE);
            columns.add(FREE_SIZE);
        }
        if (options.totals()) {
            columns.add(TOTAL_ALLOCS);
        }
        return columns;
    }

    private static String align(Column column, String text) {
        return column.leftAligned() ? left(text, column.width()) : right(text, column.width());
    }

    /** zprint's exchange sort: wasted bytes (cur_size - elem_size * count), descending. */
    private static List<ZoneRow> sortByWaste(List<ZoneRow> zones) {
        List<ZoneRow> sorted = new ArrayList<>(zones);
        for (int i = 0; i < sorted.size() - 1; i++) {
            for (int j = i + 1; j < sorted.size(); j++) {
                if (Long.compareUnsigned(waste(sorted.get(j)), waste(sorted.get(i))) > 0) {
                    ZoneRow swap = sorted.get(i);
                    sorted.set(i, sorted.get(j));
                    sorted.set(j, swap);
                }
            }
        }
        return sorted;
    }

    private static long waste(ZoneRow zone) {
        return zone.curSize() - zone.elemSize() * zone.count();
    }

    private static long fragmented(ZoneRow zone) {
        return waste(zone) - zone.freeBytes();
    }

    private static long per(long bytes, long elemSize) {
        return elemSize == 0 ? 0 : udiv(bytes, elemSize);
    }

    /** A "%Nlluk" field: KiB right-aligned in width - 1, then K. */
    private static String kib(long bytes, int width) {
        return right(unsigned(udiv(bytes, KIB)), width - 1) + "K";
    }

    /** The -w/-t columns: bytes with B under 1 KiB, else KiB with K. */
    private static String bytesOrKib(long bytes, int width) {
        if (Long.compareUnsigned(bytes, KIB) < 0) {
            return right(unsigned(bytes), width - 1) + "B";
        }
        return kib(bytes, width);
    }

    private static void appendWiredReport(StringBuilder out, List<WiredSite> sites, long wiredBytes,
            List<ZoneRow> zones, Totals zoneTotals, ZprintOptions options) {
        long zoneTotal = zoneTotals.size;
        List<WiredSite> sorted = new ArrayList<>(sites);
        Comparator<WiredSite> bySizeDescending = (x, y) -> Long.compareUnsigned(y.cur(), x.cur());
        sorted.sort(options.sortByWaste()
                ? bySizeDescending
                : Comparator.comparing(WiredSite::name, Zprint::compareNumerically));

        boolean headerPrinted = false;
        long total = zoneTotal;
        long elementsTagged = 0;
        for (WiredSite site : sorted) {
            if (site.inZone()) {
                elementsTagged += taggedElements(site, zones);
            }
            if (Long.compareUnsigned(site.cur(), KIB) < 0 && Long.compareUnsigned(site.peak(), KIB) < 0) {
                continue;
            }
            if (!options.matches(site.name())) {
                continue;
            }
            if (!headerPrinted) {
                out.append(WIRED_HEADER);
                headerPrinted = true;
            }
            out.append(left(site.name(), 67)).append(right(Integer.toString(site.vmTag()), 12));
            out.append(' ').append(site.peak() != 0 ? kib(site.peak(), 11) : " ".repeat(11));
            out.append(' ').append(site.waste() != 0 ? kib(site.waste(), 6) : " ".repeat(6));
            out.append(' ').append(kib(site.cur(), 10)).append('\n');
            if (!site.inZone()) {
                total += site.cur();
            }
        }
        if (!options.filtering()) {
            out.append(left("zones", 67)).append(" ".repeat(12))
                    .append(' ').append(" ".repeat(11))
                    .append(' ').append(" ".repeat(6))
                    .append(' ').append(kib(zoneTotal, 10)).append('\n');
        }
        if (headerPrinted) {
            if (elementsTagged != 0) {
                String tagged = unsigned(elementsTagged) + " of " + unsigned(zoneTotals.count);
                out.append("zone tags").append(right(tagged, 100)).append('\n');
            }
            String sizes = mebibytes(total) + " of " + mebibytes(wiredBytes);
            out.append("total").append(right(sizes, 104)).append('\n');
        }
    }

    /** A zone site's elements: its size over its zone's element size (none if the zone is unknown). */
    private static long taggedElements(WiredSite site, List<ZoneRow> zones) {
        for (ZoneRow zone : zones) {
            if (zone.name().equals(site.zone())) {
                return per(site.cur(), zone.elemSize());
            }
        }
        return 0;
    }

    /** {@code "%6.2fM"} of a byte count. */
    private static String mebibytes(long bytes) {
        return right(CFields.fixed(CFields.unsignedToDouble(bytes) / MIB, 2), 6) + "M";
    }

    private static void appendZoneTotals(StringBuilder out, Totals totals, ZprintOptions options) {
        out.append("\nZONE TOTALS\n").append("-".repeat(45)).append('\n');
        out.append("TOTAL SIZE        = ").append(unsigned(totals.size)).append('\n');
        out.append("TOTAL USED        = ").append(unsigned(totals.used)).append('\n');
        if (options.wasted()) {
            out.append("TOTAL WASTED      = ").append(unsigned(totals.size - totals.used)).append('\n');
            out.append("TOTAL FRAGMENTED  = ").append(unsigned(totals.fragmented)).append('\n');
            out.append("TOTAL COLLECTABLE = ").append(unsigned(totals.collectable)).append('\n');
        }
        if (options.totals()) {
            out.append("TOTAL ALLOCS      = ").append(unsigned(totals.allocs)).append('\n');
        }
    }

    /**
     * {@code kCFCompareNumerically}: runs of digits compare by value, everything else by
     * character.
     */
    static int compareNumerically(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            char ca = a.charAt(i);
            char cb = b.charAt(j);
            if (isDigit(ca) && isDigit(cb)) {
                int endA = digitsEnd(a, i);
                int endB = digitsEnd(b, j);
                int byValue = compareDigits(a.substring(i, endA), b.substring(j, endB));
                if (byValue != 0) {
                    return byValue;
                }
                i = endA;
                j = endB;
            } else if (ca != cb) {
                return Character.compare(ca, cb);
            } else {
                i++;
                j++;
            }
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int digitsEnd(String s, int from) {
        int end = from;
        while (end < s.length() && isDigit(s.charAt(end))) {
            end++;
        }
        return end;
    }

    private static int compareDigits(String a, String b) {
        String x = stripLeadingZeros(a);
        String y = stripLeadingZeros(b);
        return x.length() != y.length() ? Integer.compare(x.length(), y.length()) : x.compareTo(y);
    }

    private static String stripLeadingZeros(String digits) {
        int k = 0;
        while (k < digits.length() - 1 && digits.charAt(k) == '0') {
            k++;
        }
        return digits.substring(k);
    }

    /** zprint's running totals over the zones it printed. */
    private static final class Totals {
        long size;
        /** Elements in use ({@code mzi_count}), zprint's {@code zoneElements}. */
        long count;
        long used;
        long allocs;
        long fragmented;
        long collectable;

        void add(ZoneRow zone) {
            size += zone.curSize();
            count += zone.count();
            used += zone.elemSize() * zone.count();
            allocs += zone.sumSize();
            collectable += zone.freeBytes();
            fragmented += fragmented(zone);
        }
    }
}
