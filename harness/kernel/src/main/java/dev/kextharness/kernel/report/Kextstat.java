package dev.kextharness.kernel.report;

import static dev.kextharness.kernel.report.CFields.altHex;
import static dev.kextharness.kernel.report.CFields.left;
import static dev.kextharness.kernel.report.CFields.right;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * kextstat's listing (kext_tools-623, 64-bit kernel, no {@code -a}), rendered from immutable rows.
 *
 * <p>As kextstat does, rows are sorted by load tag (unreadable tags first) and the kernel itself
 * (tag 0) is never listed. Dependency tags are printed in <em>descending</em> order: kextstat
 * sorts them with {@code compareNumbers}, which inverts {@code CFNumberCompare}, and real
 * output reads {@code <7 6 5 4 3 1>}. Unreadable dependency tags ({@code ??}) come first, as
 * {@code (uint32_t)-1} is the largest. The fact sheet (8.3) says ascending; src/docs/fidelity.md
 * gives the evidence for descending.
 *
 * <p>Stability: stable.
 */
public final class Kextstat {

    /** The header line for a 64-bit kernel. */
    public static final String HEADER =
            "Index Refs Address            Size       Wired      Name (Version) UUID <Linked Against>\n";

    private static final String SHORT_MISSING = "??";
    private static final String LONG_MISSING = "????";

    private static final Comparator<KextRow> BY_LOAD_TAG = (a, b) -> {
        if (a.index() == b.index()) {
            return 0;
        }
        if (a.index() == KextRow.MISSING) {
            return -1;
        }
        if (b.index() == KextRow.MISSING) {
            return 1;
        }
        return Integer.compareUnsigned(a.index(), b.index());
    };

    private Kextstat() {
    }

    /** {@code kextstat}: the header, then the rows. */
    public static String render(List<KextRow> rows) {
        return HEADER + list(rows);
    }

    /** {@code kextstat -l}: the rows without the header. */
    public static String list(List<KextRow> rows) {
        Objects.requireNonNull(rows, "rows");
        List<KextRow> sorted = new ArrayList<>(rows);
        sorted.sort(BY_LOAD_TAG);
        StringBuilder out = new StringBuilder(160 * sorted.size());
        for (KextRow row : sorted) {
            if (row.index() != 0) {
                out.append(row(row));
            }
        }
        return out.toString();
    }

    /** One kext's line, newline included. */
    public static String row(KextRow row) {
        StringBuilder line = new StringBuilder(160);
        line.append(right(number(row.index()), 5));
        line.append(' ').append(right(number(row.refs()), 4));
        line.append(' ').append(left(hex(row.address()), 18));
        line.append(' ').append(left(hex(row.size()), 10));
        line.append(' ').append(left(hex(row.wired()), 10));
        line.append(' ').append(row.bundleId() == null ? LONG_MISSING : row.bundleId());
        line.append(" (").append(row.version() == null ? LONG_MISSING : row.version()).append(')');
        line.append(' ').append(row.uuid() == null ? "no UUID" : row.uuid());
        if (!row.linkedAgainst().isEmpty()) {
            List<Integer> tags = new ArrayList<>(row.linkedAgainst());
            tags.sort(Comparator.nullsFirst(Comparator.<Integer>reverseOrder()));
            line.append(" <");
            for (int i = 0; i < tags.size(); i++) {
                Integer tag = tags.get(i);
                line.append(i == 0 ? "" : " ").append(tag == null ? SHORT_MISSING : tag.toString());
            }
            line.append('>');
        }
        return line.append('\n').toString();
    }

    private static String number(int value) {
        return value == KextRow.MISSING ? SHORT_MISSING : Integer.toString(value);
    }

    /** {@code %#x}: so an address or size of 0 prints as a bare 0, as for kernel components. */
    private static String hex(long value) {
        return value == KextRow.MISSING ? LONG_MISSING : altHex(value);
    }
}
