package dev.kextharness.kernel.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Expected rows were printed by a C program using zprint's printf formats. */
class ZprintTest {

    /** Fact sheet §7.2, byte for byte (note the four trailing spaces). */
    private static final String HEADER = ""
            + "                            elem         cur         max        cur         max         cur  alloc  alloc    \n"
            + "zone name                   size        size        size      #elts       #elts       inuse   size  count    \n"
            + "-------------------------------------------------------------------------------------------------------------\n";

    private static final ZoneRow KALLOC_48 =
            new ZoneRow("kalloc.48", 48, 2_457_600, 3_276_800, 48_000, 4096, 48_000_000, 57_600, false, true);
    private static final ZoneRow VM_MAP_ENTRIES =
            new ZoneRow("VM map entries", 80, 409_600, 1L << 40, 4000, 16_384, 4_000_000, 80_000, false, true);
    private static final ZoneRow LONG_NAME =
            new ZoneRow("com.apple.kext.leaky.zone.name", 256, 8192, 65_536, 10, 4096, 3072, 5632, true, false);
    private static final ZoneRow NAME_OF_24 =
            new ZoneRow("exactly.twenty.four.char", 16, 4096, 8192, 100, 4096, 4800, 2496, false, false);
    private static final List<ZoneRow> ZONES = List.of(KALLOC_48, VM_MAP_ENTRIES, LONG_NAME, NAME_OF_24);

    private static final String ROW_KALLOC_48 =
            "kalloc.48                     48       2400K       3200K      51200       68266       48000     4K     85  C\n";
    private static final String ROW_VM_MAP_ENTRIES =
            "VM.map.entries                80        400K     -------       5120     -------        4000    16K    204  C\n";
    private static final String ROW_LONG_NAME =
            "com.apple.kext.leaky.zon$    256          8K         64K         32         256          10     4K     16 X \n";
    private static final String ROW_NAME_OF_24 =
            "exactly.twenty.four.char      16          4K          8K        256         512         100     4K    256   \n";

    private static final String WIRED_HEADER = ""
            + "-------------------------------------------------------------------------------------------------------------\n"
            + "                                                               kmod          vm        peak               cur\n"
            + "wired memory                                                     id         tag        size  waste       size\n"
            + "-------------------------------------------------------------------------------------------------------------\n";

    private static final String LEAKY_KEXT_NAME =
            "com.example.driver.Leaky                                         57";

    private static final List<WiredSite> SITES = List.of(
            WiredSite.kext("com.example.driver.Leaky", 57, 33, 3 * 1_048_576L),
            new WiredSite("VM_KERN_MEMORY_ZONE", 12, 123_456_789, 20_480, 2_000_000),
            new WiredSite("VM_KERN_MEMORY_10", 10, 0, 0, 4096),
            new WiredSite("VM_KERN_MEMORY_TINY", 30, 0, 0, 512),
            new WiredSite("VM_KERN_MEMORY_OSFMK", 1, 0, 0, 5 * 1_048_576L + 512),
            new WiredSite("VM_KERN_MEMORY_9", 9, 0, 0, 2048));

    private static final String SITE_9 =
            "VM_KERN_MEMORY_9                                                              9                            2K\n";
    private static final String SITE_10 =
            "VM_KERN_MEMORY_10                                                            10                            4K\n";
    private static final String SITE_OSFMK =
            "VM_KERN_MEMORY_OSFMK                                                          1                         5120K\n";
    private static final String SITE_ZONE =
            "VM_KERN_MEMORY_ZONE                                                          12     120563K    20K      1953K\n";
    private static final String SITE_LEAKY =
            "com.example.driver.Leaky                                         57          33                         3072K\n";
    private static final String ZONES_LINE =
            "zones                                                                                                   2812K\n";
    private static final String TOTAL_LINE =
            "total                                                                                      12.66M of 1536.00M\n";

    private static final long WIRED_BYTES = 1_610_612_736L;
    private static final ZprintOptions NO_WIRED = ZprintOptions.defaults().withWiredReport(false);

    @Test
    void headerMatchesTheFactSheetByteForByte() {
        assertThat(Zprint.header(ZprintOptions.defaults())).isEqualTo(HEADER);
        assertThat(HEADER.lines()).allSatisfy(line -> assertThat(line).hasSize(109));
    }

    @Test
    void headerGrowsWithWastedAndTotalColumns() {
        String line1 = "     frag      free             total \n";
        String line2 = "     size      size            allocs \n";
        String[] base = HEADER.split("\n");
        String expected = base[0] + line1 + base[1] + line2 + "-".repeat(109 + 10 + 10 + 18) + "\n";

        assertThat(Zprint.header(ZprintOptions.defaults().withWasted(true).withTotals(true))).isEqualTo(expected);
    }

    @Test
    void kalloc48Row() {
        assertThat(Zprint.row(KALLOC_48, ZprintOptions.defaults())).isEqualTo(ROW_KALLOC_48);
    }

    @Test
    void spacesBecomeDotsAndPreposterousMaximumsPrintDashes() {
        assertThat(Zprint.row(VM_MAP_ENTRIES, ZprintOptions.defaults())).isEqualTo(ROW_VM_MAP_ENTRIES);
    }

    @Test
    void namesPast24CharactersAreCutAndMarkedWithDollar() {
        assertThat(Zprint.row(LONG_NAME, ZprintOptions.defaults())).isEqualTo(ROW_LONG_NAME);
        assertThat(Zprint.row(NAME_OF_24, ZprintOptions.defaults())).isEqualTo(ROW_NAME_OF_24);
    }

    @Test
    void maxSizeJustBelowTheLimitIsStillPrinted() {
        ZoneRow atLimit = new ZoneRow("big", 4096, 4096, 9_999_999L * 1024, 1, 4096, 4096, 0, false, false);
        ZoneRow overLimit = new ZoneRow("big", 4096, 4096, 10_000_000L * 1024, 1, 4096, 4096, 0, false, false);

        assertThat(Zprint.row(atLimit, ZprintOptions.defaults())).isEqualTo(
                "big                         4096          4K    9999999K          1     2499999           1     4K      1   \n");
        assertThat(Zprint.row(overLimit, ZprintOptions.defaults())).isEqualTo(
                "big                         4096          4K     -------          1     -------           1     4K      1   \n");
    }

    @Test
    void zonesOnly() {
        assertThat(Zprint.render(ZONES, NO_WIRED))
                .isEqualTo(HEADER + ROW_KALLOC_48 + ROW_VM_MAP_ENTRIES + ROW_LONG_NAME + ROW_NAME_OF_24);
    }

    @Test
    void wastedAndTotalColumnsAndZoneTotals() {
        ZprintOptions options = NO_WIRED.withWasted(true).withTotals(true);

        assertThat(Zprint.render(ZONES, options)).isEqualTo(Zprint.header(options)
                + "kalloc.48                     48       2400K       3200K      51200       68266       48000     4K     85  C       93K       56K            46875K\n"
                + "VM.map.entries                80        400K     -------       5120     -------        4000    16K    204  C        9K       78K             3906K\n"
                + "com.apple.kext.leaky.zon$    256          8K         64K         32         256          10     4K     16 X         0B        5K                3K\n"
                + "exactly.twenty.four.char      16          4K          8K        256         512         100     4K    256           0B        2K                4K\n"
                + "\n"
                + "ZONE TOTALS\n"
                + "---------------------------------------------\n"
                + "TOTAL SIZE        = 2879488\n"
                + "TOTAL USED        = 2628160\n"
                + "TOTAL WASTED      = 251328\n"
                + "TOTAL FRAGMENTED  = 105600\n"
                + "TOTAL COLLECTABLE = 145728\n"
                + "TOTAL ALLOCS      = 52007872\n");
    }

    @Test
    void totalsWithoutWasteShowOnlySizeUsedAndAllocs() {
        String out = Zprint.render(List.of(KALLOC_48), NO_WIRED.withTotals(true));

        assertThat(out).endsWith("\nZONE TOTALS\n" + "-".repeat(45) + "\n"
                + "TOTAL SIZE        = 2457600\n"
                + "TOTAL USED        = 2304000\n"
                + "TOTAL ALLOCS      = 48000000\n");
    }

    @Test
    void hideHeadersDropsHeaderAndZoneTotals() {
        assertThat(Zprint.render(List.of(KALLOC_48), NO_WIRED.withHideHeaders(true).withWasted(true)))
                .isEqualTo(ROW_KALLOC_48.replace("\n", "       93K       56K\n"));
    }

    @Test
    void sortByWasteOrdersZonesByWastedBytesDescending() {
        List<ZoneRow> scrambled = List.of(NAME_OF_24, VM_MAP_ENTRIES, LONG_NAME, KALLOC_48);

        assertThat(Zprint.render(scrambled, NO_WIRED.withSortByWaste(true)))
                .isEqualTo(HEADER + ROW_KALLOC_48 + ROW_VM_MAP_ENTRIES + ROW_LONG_NAME + ROW_NAME_OF_24);
    }

    @Test
    void nameFilterIsACaseSensitiveSubstring() {
        assertThat(Zprint.render(ZONES, NO_WIRED.withNameFilter("kalloc"))).isEqualTo(HEADER + ROW_KALLOC_48);
        assertThat(Zprint.render(ZONES, NO_WIRED.withNameFilter("Kalloc"))).isEmpty();
        assertThat(Zprint.render(ZONES, NO_WIRED.withNameFilter(""))).startsWith(HEADER + ROW_KALLOC_48 + ROW_VM_MAP_ENTRIES);
    }

    @Test
    void wiredReportFollowsTheZones() {
        String expected = HEADER + ROW_KALLOC_48 + ROW_VM_MAP_ENTRIES + ROW_LONG_NAME + ROW_NAME_OF_24
                + WIRED_HEADER + SITE_9 + SITE_10 + SITE_OSFMK + SITE_ZONE + SITE_LEAKY
                + ZONES_LINE + TOTAL_LINE;

        assertThat(Zprint.render(ZONES, SITES, WIRED_BYTES, ZprintOptions.defaults())).isEqualTo(expected);
    }

    @Test
    void sortBySizeAlsoSortsTheSites() {
        String out = Zprint.render(List.of(), SITES, WIRED_BYTES, ZprintOptions.defaults().withSortByWaste(true));

        assertThat(out).isEqualTo(WIRED_HEADER + SITE_OSFMK + SITE_LEAKY + SITE_ZONE + SITE_10 + SITE_9
                + "zones                                                                                                      0K\n"
                + "total                                                                                       9.91M of 1536.00M\n");
    }

    @Test
    void filteredWiredReportHasNoZonesLine() {
        String out = Zprint.render(ZONES, SITES, WIRED_BYTES, ZprintOptions.defaults().withNameFilter("Leaky"));

        assertThat(out).isEqualTo(WIRED_HEADER + SITE_LEAKY
                + "total                                                                                       3.00M of 1536.00M\n");
    }

    @Test
    void noSiteToShowLeavesOnlyTheZonesLine() {
        String out = Zprint.render(List.of(KALLOC_48), ZprintOptions.defaults());

        assertThat(out).isEqualTo(HEADER + ROW_KALLOC_48
                + "zones                                                                                                   2400K\n");
    }

    @Test
    void zoneTotalsComeAfterTheWiredReportAndCountZonesOnly() {
        String out = Zprint.render(List.of(KALLOC_48), SITES, WIRED_BYTES, ZprintOptions.defaults().withWasted(true));

        assertThat(out).contains(TOTAL_LINE.replace("12.66M", "12.26M") + "\nZONE TOTALS\n")
                .contains("TOTAL SIZE        = 2457600\n");
    }

    @Test
    void kextSiteNamesPadTheBundleIdTo64AndTheTagTo3() {
        assertThat(WiredSite.kextName("com.example.driver.Leaky", 57)).isEqualTo(LEAKY_KEXT_NAME).hasSize(67);
        assertThat(WiredSite.kextName(null, 112)).isEqualTo("(unloaded kmod)" + " ".repeat(49) + "112");
        assertThat(WiredSite.kext("com.example.driver.Leaky", 57, 4096))
                .isEqualTo(new WiredSite(LEAKY_KEXT_NAME, 0, 0, 0, 4096));
    }

    @Test
    void zoneSitesCountInTheZonesAndTheZoneTagsNotAgainInTheTotal() {
        List<WiredSite> sites = List.of(
                WiredSite.kextZone("com.example.tiny", 58, "no.such.zone", 4096),
                WiredSite.kextZone("com.example.driver.Leaky", 57, "kalloc.48", 48_000),
                WiredSite.kext("com.example.driver.Leaky", 57, 33, 1_048_576),
                WiredSite.kextZone("com.example.tiny", 58, "kalloc.48", 480));

        String out = Zprint.render(List.of(KALLOC_48), sites, WIRED_BYTES, ZprintOptions.defaults());

        assertThat(out).isEqualTo(HEADER + ROW_KALLOC_48 + WIRED_HEADER
                + "com.example.driver.Leaky                                         57          33                         1024K\n"
                + "com.example.driver.Leaky[kalloc.48]                              57           0                           46K\n"
                + "com.example.tiny[no.such.zone]                                   58           0                            4K\n"
                + "zones                                                                                                   2400K\n"
                + "zone tags                                                                                       1010 of 48000\n"
                + "total                                                                                       3.34M of 1536.00M\n");
    }

    @Test
    void zoneSiteNamesCutTheBundleIdSoItAndTheZoneFitIn61() {
        assertThat(WiredSite.kextZoneName("com.example.a.very.long.bundle.identifier.that.goes", 7, "kalloc.1024"))
                .isEqualTo("com.example.a.very.long.bundle.identifier.that.goe[kalloc.1024]   7");
        assertThat(WiredSite.kextZoneName(null, 112, "kalloc.16"))
                .isEqualTo("(unloaded kmod)[kalloc.16]" + " ".repeat(38) + "112");
        assertThat(WiredSite.kextZone(null, 3, "kalloc.16", 16).inZone()).isTrue();
        assertThat(WiredSite.kext(null, 3, 16).inZone()).isFalse();
    }

    @Test
    void sitesSortWithDigitRunsComparedAsNumbers() {
        assertThat(Zprint.compareNumerically("site 9", "site 10")).isNegative();
        assertThat(Zprint.compareNumerically("site 010", "site 9")).isPositive();
        assertThat(Zprint.compareNumerically("VM_KERN_MEMORY_9", "VM_KERN_MEMORY_OSFMK")).isNegative();
        assertThat(Zprint.compareNumerically("abc", "abcd")).isNegative();
        assertThat(Zprint.compareNumerically("a1b", "a1b")).isZero();
    }

    @Test
    void usage() {
        assertThat(Zprint.usage("zprint"))
                .startsWith("usage: zprint [-w] [-s] [-c] [-h] [-H] [-t] [-d] [-l] [-L] [name]\n\n\t-w\tshow wasted memory for each zone\n")
                .contains("\t-t\tdisplay the total size of allocations over the life of the zone\n")
                .endsWith("\nAny option (including default options) can be overridden by specifying the option in upper-case.\n\n");
    }

    @Test
    void optionsAreImmutable() {
        ZprintOptions defaults = ZprintOptions.defaults();
        ZprintOptions wasted = defaults.withWasted(true);

        assertThat(defaults.wasted()).isFalse();
        assertThat(wasted.wasted()).isTrue();
        assertThat(defaults.wiredReport()).isTrue();
        assertThat(defaults.filtering()).isFalse();
    }
}
