package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kextharness.cli.testkexts.CleanKext;
import dev.kextharness.cli.testkexts.CleanKextNewer;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.report.ZprintOptions;
import dev.kextharness.kernel.zcache.ZoneCache;
import dev.kextharness.samples.memleak.MemleakKext;
import org.junit.jupiter.api.Test;

import static dev.kextharness.cli.LoadCommandTest.assertUsageError;
import static org.assertj.core.api.Assertions.assertThat;

/** zprint, kextstat and ioalloccount print exactly what the kernel's renderers print. */
class ReportCommandsTest {

    private static Kernel kernelWithMemleakLoaded() {
        Kernel kernel = Kernel.boot();
        kernel.kextload(MemleakKext.class);
        return kernel;
    }

    @Test
    void zprintIsTheKernelsZprintAfterLoading() {
        Cli.Result r = Cli.run("zprint", "-w", "-t", "--load", "memleak", "kalloc.16");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo(kernelWithMemleakLoaded().zprint(ZprintOptions.defaults()
                .withWasted(true).withTotals(true).withNameFilter("kalloc.16")));
        assertThat(r.out()).contains("kalloc.16 ").contains("ZONE TOTALS");
    }

    @Test
    void zprintOfABootedKernelNeedsNoKexts() {
        Cli.Result r = Cli.run("zprint", "-H", "-L");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo(Kernel.boot().zprint(ZprintOptions.defaults().withHideHeaders(true)
                .withWiredReport(false)));
    }

    @Test
    void zprintAfterAnXnuUnloadStillShowsTheLeakedElementAndExitsWithTheLeakStatus() {
        Cli.Result r = Cli.run("zprint", "--leak-policy", "xnu", "--load", "memleak", "--unload", "kalloc.16");

        Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.XNU));
        kernel.kextunload(kernel.kextload(MemleakKext.class));
        assertThat(r.out()).isEqualTo(kernel.zprint(ZprintOptions.defaults().withNameFilter("kalloc.16")));
        assertThat(r.exitCode()).isEqualTo(ExitCodes.LEAK);
        assertThat(r.err()).contains("memleak: leak");
    }

    @Test
    void zprintJsonListsTheFilteredZones() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("zprint", "--json", "-k", "memleak", "kalloc.16").out());

        assertThat(json.get("zones")).hasSize(4); // kalloc.16, .160, .1664 and .16384 contain "kalloc.16"
        JsonNode zone = json.get("zones").get(0);
        assertThat(zone.get("name").asText()).isEqualTo("kalloc.16");
        assertThat(zone.get("elemSize").asLong()).isEqualTo(16);
        // The kext's one block, and the 7 elements its magazine fill left cached: in use as zprint counts.
        assertThat(zone.get("count").asLong()).isEqualTo(ZoneCache.MAGAZINE_SIZE);
    }

    @Test
    void kextstatIsTheKernelsKextstat() {
        Cli.Result r = Cli.run("kextstat", "--load", "memleak");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo(kernelWithMemleakLoaded().kextstat()).contains("cn.junkman.kext-memleak (1.0)");
    }

    @Test
    void kextstatJsonHasOneObjectPerLoadedKext() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("kextstat", "--json", "-k", "memleak").out());

        // The KPI pseudo-kexts (tags 1 to 8), then the kext, linked against the public four.
        assertThat(json.get("kexts")).hasSize(9);
        assertThat(json.get("kexts").get(0).get("bundleId").asText()).isEqualTo("com.apple.kpi.bsd");
        JsonNode kext = json.get("kexts").get(8);
        assertThat(kext.get("bundleId").asText()).isEqualTo("cn.junkman.kext-memleak");
        assertThat(kext.get("index").asInt()).isEqualTo(9);
        assertThat(kext.get("address").asText()).startsWith("0xffffff7f");
        assertThat(kext.get("linkedAgainst").toString()).isEqualTo("[1,3,5,6]");
    }

    @Test
    void ioalloccountIsTheKernelsIoalloccount() throws Exception {
        Cli.Result r = Cli.run("ioalloccount");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).isEqualTo(Kernel.boot().ioalloccount()).contains("IOMalloc allocation");
        JsonNode json = new ObjectMapper().readTree(Cli.run("ioalloccount", "--json").out());
        assertThat(json.fieldNames()).toIterable().containsExactly("instanceAllocation", "containerAllocation",
                "iomallocAllocation", "pageableAllocation");
    }

    @Test
    void reportCommandsRejectUnknownKextsAsUsageErrors() {
        assertUsageError(Cli.run("zprint", "--load", "nosuch"), "unknown kext 'nosuch'");
        assertUsageError(Cli.run("kextstat", "--load", "nosuch"), "unknown kext 'nosuch'");
        assertUsageError(Cli.run("ioalloccount", "--load", "x.jar"), "kext jar x.jar: no such file");
    }

    @Test
    void aKextRefusedForATakenBundleIdSaysWhyOnTheSpot() {
        Cli.Result r = Cli.run("kextstat", "--load", CleanKext.class.getName(), "--load", CleanKextNewer.class.getName());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.LOAD_FAILED);
        assertThat(r.out()).contains("com.example.clean (2.0)").doesNotContain("(2.1)");
        assertThat(r.err()).startsWith("kext-harness kextstat: " + CleanKextNewer.class.getName() + ": load-failed: "
                        + "com.example.clean failed to load - (libkern/kext) different version/uuid already loaded")
                .contains("\n  (kernel) Refusing new kext com.example.clean, v2.1: already have loaded v2.0.\n")
                .contains("already taken by the loaded kext " + CleanKext.class.getName() + " (version 2.0), load tag ")
                .doesNotContain("see: kext-harness load");
    }
}
