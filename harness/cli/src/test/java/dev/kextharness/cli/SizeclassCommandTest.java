package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static dev.kextharness.cli.LoadCommandTest.assertUsageError;
import static org.assertj.core.api.Assertions.assertThat;

class SizeclassCommandTest {

    @Test
    void oneLinePerSizeNamingTheBucketAndTheWaste() {
        Cli.Result r = Cli.run("sizeclass", "1", "16", "17", "4097", "16384");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out().lines()).containsExactly(
                "1 byte -> kalloc.16 (16 bytes): 15 bytes wasted",
                "16 bytes -> kalloc.16 (16 bytes): 0 bytes wasted",
                "17 bytes -> kalloc.32 (32 bytes): 15 bytes wasted",
                "4097 bytes -> kalloc.6144 (6144 bytes): 2047 bytes wasted",
                "16384 bytes -> kalloc.16384 (16384 bytes): 0 bytes wasted");
    }

    @Test
    void catalinaHasNoKalloc3072Or8193Zone() {
        assertThat(Cli.run("sizeclass", "2049", "8193").out().lines()).containsExactly(
                "2049 bytes -> kalloc.4096 (4096 bytes): 2047 bytes wasted",
                "8193 bytes -> kalloc.12288 (12288 bytes): 4095 bytes wasted");
    }

    @Test
    void largeSizesArePageRoundedFromKallocMapThenKernelMap() {
        assertThat(Cli.run("sizeclass", "16385", "524288", "600000").out().lines()).containsExactly(
                "16385 bytes -> kalloc large, page rounded, from kalloc_map (20480 bytes): 4095 bytes wasted",
                "524288 bytes -> kalloc large, page rounded, from kalloc_map (524288 bytes): 0 bytes wasted",
                "600000 bytes -> kalloc large, page rounded, from kernel_map (602112 bytes): 2112 bytes wasted");
    }

    @Test
    void sizesTakeBinarySuffixes() {
        assertThat(Cli.run("sizeclass", "4K").out()).isEqualTo("4096 bytes -> kalloc.4096 (4096 bytes): 0 bytes wasted\n");
    }

    @Test
    void jsonHasOneObjectPerSize() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("sizeclass", "--json", "4097", "16385").out());

        assertThat(json).hasSize(2);
        assertThat(json.get(0).get("zone").asText()).isEqualTo("kalloc.6144");
        assertThat(json.get(0).get("wastedBytes").asLong()).isEqualTo(2047);
        assertThat(json.get(1).get("path").asText()).isEqualTo("large");
        assertThat(json.get(1).get("zone").isNull()).isTrue();
        assertThat(json.get(1).get("allocatedBytes").asLong()).isEqualTo(20480);
    }

    @Test
    void badSizesAreUsageErrors() {
        assertUsageError(Cli.run("sizeclass", "abc"), "'abc' is not a size");
        assertUsageError(Cli.run("sizeclass", "-5"), "'-5' is not a size");
        assertUsageError(Cli.run("sizeclass", "9223372036854775807"), "larger than any kernel address space");
        assertUsageError(Cli.run("sizeclass"), "Missing required parameter");
    }

    @Test
    void everyBadSizeAmongGoodOnesIsNamedInOneLine() {
        Cli.Result r = Cli.run("sizeclass", "1", "16", "17", "4097", "20000", "0", "-5", "abc");

        assertUsageError(r, "'-5' is not a size; 'abc' is not a size: give bytes");
        assertThat(r.err()).doesNotContain("Unmatched");
    }

    @Test
    void aBadSizeRightAfterAGoodOneIsNamed() {
        Cli.Result r = Cli.run("sizeclass", "1", "abc");

        assertUsageError(r, "'abc' is not a size: give bytes, or a number with K, M, G or T");
        assertThat(r.err()).doesNotContain("Unmatched");
    }

    @Test
    void tooLargeAndMalformedSizesAreNamedTogether() {
        assertUsageError(Cli.run("sizeclass", "4x", "9223372036854775807", "5y"),
                "9223372036854775807 bytes is larger than any kernel address space (give at most 9223372036854771712); "
                        + "'4x' is not a size; '5y' is not a size: give bytes");
    }

    @Test
    void aLargeRequestAboveTheWiredExtentLimitFails() {
        assertThat(Cli.run("sizeclass", "2G", "3G").out().lines()).containsExactly(
                "2147483648 bytes -> kalloc large, page rounded, from kernel_map (2147483648 bytes): 0 bytes wasted",
                "3221225472 bytes -> fails, kalloc returns NULL: page rounded to 3221225472 bytes, above the 2G wired "
                        + "extent limit (KERN_RESOURCE_SHORTAGE)");
    }

    @Test
    void theWiredExtentLimitGrowsWithRamAbove128G() {
        assertThat(Cli.run("sizeclass", "--ram", "256G", "3G", "5G").out().lines()).containsExactly(
                "3221225472 bytes -> kalloc large, page rounded, from kernel_map (3221225472 bytes): 0 bytes wasted",
                "5368709120 bytes -> fails, kalloc returns NULL: page rounded to 5368709120 bytes, above the 4G wired "
                        + "extent limit (KERN_RESOURCE_SHORTAGE)");
    }

    @Test
    void jsonSaysAFailedRequestFails() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("sizeclass", "--json", "3G").out());

        assertThat(json.get(0).get("path").asText()).isEqualTo("fails");
        assertThat(json.get(0).get("kernReturn").asText()).isEqualTo("KERN_RESOURCE_SHORTAGE");
        assertThat(json.get(0).get("map").isNull()).isTrue();
    }
}
