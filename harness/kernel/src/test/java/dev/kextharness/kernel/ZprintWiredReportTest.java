package dev.kextharness.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.kext.fixtures.WiredLeakKext;
import dev.kextharness.kernel.report.ZoneRow;
import dev.kextharness.kernel.report.ZprintOptions;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** zprint's wired-memory report for a real kext: zone and wired sites, and a kext unloaded with its leak. */
class ZprintWiredReportTest {
    private static final String WIRED_HEADER = ""
            + "-------------------------------------------------------------------------------------------------------------\n"
            + "                                                               kmod          vm        peak               cur\n"
            + "wired memory                                                     id         tag        size  waste       size\n"
            + "-------------------------------------------------------------------------------------------------------------\n";

    private static Kernel bootAndLoad(LoadedKext[] loaded) {
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.XNU));
        loaded[0] = kernel.kextload(WiredLeakKext.class);
        return kernel;
    }

    /** zprint's "%6.2fM of %6.2fM" total line. */
    private static String totalLine(long reported, long wired) {
        String sizes = String.format(Locale.ROOT, "%6.2fM of %6.2fM", reported / 1048576.0, wired / 1048576.0);
        return String.format(Locale.ROOT, "total%104s\n", sizes);
    }

    private static long wiredTotal(Kernel kernel) {
        return kernel.zalloc().zoneMapSize() + kernel.kalloc().largeTotal();
    }

    @Test
    void aLoadedKextsZoneBytesAreNamedByZoneAndCountedOnlyInTheZones() {
        LoadedKext[] kext = new LoadedKext[1];
        Kernel kernel = bootAndLoad(kext);

        String out = kernel.zprint(ZprintOptions.defaults().withNameFilter("wired-leak"));

        assertThat(out).isEqualTo(WIRED_HEADER
                + "com.example.wired-leak                                            9           0                           64K\n"
                + "com.example.wired-leak[kalloc.1024]                               9           0                            2K\n"
                + "zone tags                                                                                              2 of 0\n"
                + totalLine(64 * 1024, wiredTotal(kernel)));
    }

    @Test
    void theTotalIsTheZonesPlusTheWiredSitesOfTheWiredTotal() {
        LoadedKext[] kext = new LoadedKext[1];
        Kernel kernel = bootAndLoad(kext);
        long zones = kernel.zoneRows().stream().mapToLong(ZoneRow::curSize).sum();
        long inUse = kernel.zoneRows().stream().mapToLong(ZoneRow::count).sum();

        String out = kernel.zprint(ZprintOptions.defaults());

        assertThat(out).endsWith(""
                + "com.example.wired-leak                                            9           0                           64K\n"
                + "com.example.wired-leak[kalloc.1024]                               9           0                            2K\n"
                + String.format(Locale.ROOT, "zones%-62s%12s %11s %6s %9dK\n", "", "", "", "", zones / 1024)
                + String.format(Locale.ROOT, "zone tags%100s\n", "2 of " + inUse)
                + totalLine(zones + 64 * 1024, wiredTotal(kernel)));
    }

    @Test
    void aKextUnloadedWithItsMemoryStillHeldReadsUnloadedKmod() {
        LoadedKext[] kext = new LoadedKext[1];
        Kernel kernel = bootAndLoad(kext);
        kernel.kextunload(kext[0]);

        String out = kernel.zprint(ZprintOptions.defaults().withNameFilter("unloaded"));

        assertThat(kext[0].isLoaded()).isFalse();
        assertThat(out).isEqualTo(WIRED_HEADER
                + "(unloaded kmod)                                                   9           0                           64K\n"
                + "(unloaded kmod)[kalloc.1024]                                      9           0                            2K\n"
                + "zone tags                                                                                              2 of 0\n"
                + totalLine(64 * 1024, wiredTotal(kernel)))
                .doesNotContain("wired-leak");
    }
}
