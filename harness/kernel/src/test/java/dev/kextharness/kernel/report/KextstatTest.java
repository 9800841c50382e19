package dev.kextharness.kernel.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Expected lines were printed by a C program using kextstat's printf formats. */
class KextstatTest {

    private static final KextRow KPI_BSD = new KextRow(1, 142, 0, 0, 0, "com.apple.kpi.bsd", "19.6.0",
            "9B5A7191-5B84-3990-8710-D9BD9273A8E5", List.of());
    private static final KextRow NTFS = new KextRow(116, 0, 0xffffff7f83ee4000L, 0x42000, 0x42000,
            "com.paragon-software.filesystems.ntfs", "66.5.15", "43B8E60C-1D4C-37A1-A831-0ECF23B29456",
            List.of(1, 5, 8, 6));
    private static final KextRow UNREADABLE = new KextRow(KextRow.MISSING, KextRow.MISSING, KextRow.MISSING,
            KextRow.MISSING, KextRow.MISSING, null, null, null, Arrays.asList(3, null));
    private static final KextRow KERNEL = new KextRow(0, 0, 0xffffff8000200000L, 0x1000000, 0x1000000,
            "__kernel__", "19.6.0", null, null);

    private static final String KPI_BSD_LINE =
            "    1  142 0                  0          0          com.apple.kpi.bsd (19.6.0) 9B5A7191-5B84-3990-8710-D9BD9273A8E5\n";
    private static final String NTFS_LINE =
            "  116    0 0xffffff7f83ee4000 0x42000    0x42000    com.paragon-software.filesystems.ntfs (66.5.15) 43B8E60C-1D4C-37A1-A831-0ECF23B29456 <8 6 5 1>\n";
    private static final String UNREADABLE_LINE =
            "   ??   ?? ????               ????       ????       ???? (????) no UUID <?? 3>\n";

    @Test
    void header() {
        assertThat(Kextstat.HEADER)
                .isEqualTo("Index Refs Address            Size       Wired      Name (Version) UUID <Linked Against>\n");
    }

    @Test
    void rowWithoutDependenciesPrintsZeroAddressesBare() {
        assertThat(Kextstat.row(KPI_BSD)).isEqualTo(KPI_BSD_LINE);
    }

    @Test
    void rowWithDependenciesListsTheirTagsHighestFirst() {
        assertThat(Kextstat.row(NTFS)).isEqualTo(NTFS_LINE);
    }

    @Test
    void missingValuesPrintQuestionMarks() {
        assertThat(Kextstat.row(UNREADABLE)).isEqualTo(UNREADABLE_LINE);
    }

    @Test
    void listingIsSortedByLoadTagAndOmitsTheKernel() {
        assertThat(Kextstat.render(List.of(NTFS, KERNEL, KPI_BSD, UNREADABLE)))
                .isEqualTo(Kextstat.HEADER + UNREADABLE_LINE + KPI_BSD_LINE + NTFS_LINE);
    }

    @Test
    void listOnlyHasNoHeader() {
        assertThat(Kextstat.list(List.of(KPI_BSD))).isEqualTo(KPI_BSD_LINE);
        assertThat(Kextstat.list(List.of())).isEmpty();
    }

    @Test
    void rowsAreImmutable() {
        List<Integer> tags = new ArrayList<>(List.of(1));
        KextRow row = new KextRow(2, 0, 0, 0, 0, "a", "1", null, tags);
        tags.add(5);

        assertThat(row.linkedAgainst()).containsExactly(1);
    }
}
