package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kextharness.samples.Sample;
import dev.kextharness.samples.SampleCatalog;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kextharness.cli.LoadCommandTest.assertUsageError;
import static org.assertj.core.api.Assertions.assertThat;

class DemoCommandTest {

    @Test
    void tourCoversTheWholeCatalogAndEndsAsEveryLessonSays() {
        Cli.Result r = Cli.run("demo");

        assertThat(r.exitCode()).isZero();
        assertThat(r.err()).isEmpty();
        String summary = r.out().substring(r.out().indexOf("== summary"));
        for (Sample sample : SampleCatalog.all()) {
            assertThat(r.out()).contains(sample.name() + ": " + sample.title()).contains(sample.rule());
            assertThat(summary.lines()).anySatisfy(line -> assertThat(line).startsWith(sample.name() + " ")
                    .contains(sample.title()).endsWith("clean"));
        }
        assertThat(summary).contains("All " + SampleCatalog.all().size() + " samples ended as their lessons say");
    }

    @Test
    void tourShowsLogZoneChangesVerdictAndTwin() {
        String out = Cli.run("demo", "--sample", "memleak").out();

        assertThat(out).contains("  | kext-memleak: byte allocated 0x")
                .contains("  - kalloc.16 ")
                .contains("  + kalloc.16 ")
                .contains("verdict: panic")
                .contains("KEXT LEAK: cn.junkman.kext-memleak")
                .contains("  | kext-memleak: byte freed 0x")
                .contains("verdict: clean");
    }

    @Test
    void tourIsDeterministicAndPlainWithoutATerminal() {
        Cli.Result first = Cli.run("demo");
        Cli.Result second = Cli.run("demo");

        assertThat(first.out()).isEqualTo(second.out()).doesNotContain("\u001b[");
    }

    @Test
    void tourUnderTheFailPolicyReportsLeaksInsteadOfPanicsAndStillPasses() {
        Cli.Result r = Cli.run("demo", "--sample", "memleak", "--leak-policy", "fail");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("verdict: leak").doesNotContain("panic(cpu");
    }

    @Test
    void underTheXnuPolicyALeakIsExpectedAsALeakAndXnuPanicsStayPanics() throws Exception {
        Cli.Result text = Cli.run("demo", "--leak-policy", "xnu");
        JsonNode json = new ObjectMapper().readTree(Cli.run("demo", "--leak-policy", "xnu", "--json").out());

        assertThat(text.exitCode()).isZero();
        assertThat(text.out()).doesNotContain("not as the lesson says").doesNotContain("the lesson expects")
                .contains("All " + SampleCatalog.all().size() + " samples ended as their lessons say");
        assertThat(json.get("allAsExpected").asBoolean()).isTrue();
        assertThat(expectedOf(json, "memleak")).isEqualTo("leak");
        assertThat(expectedOf(json, "slowleak")).isEqualTo("leak");
        assertThat(expectedOf(json, "doublefree")).isEqualTo("panic");
        assertThat(expectedOf(json, "libkext")).isEqualTo("panic");
        assertThat(expectedOf(json, "wrongsize-samebucket")).isEqualTo("finding");
        json.get("samples").forEach(sample -> assertThat(sample.get("kext").get("outcome").asText())
                .isEqualTo(sample.get("expected").asText()));
    }

    @Test
    void withFindingsOffAFindingsOnlySampleIsExpectedClean() throws Exception {
        Cli.Result text = Cli.run("demo", "--no-findings", "--sample", "wrongsize-samebucket", "--sample", "memleak");
        JsonNode json = new ObjectMapper().readTree(Cli.run("demo", "--no-findings", "--json").out());

        assertThat(text.exitCode()).isZero();
        assertThat(text.out()).contains("All 2 samples ended as their lessons say")
                .doesNotContain("rule: kfree must be given the size that was allocated, even when")
                .contains("rule: Every _MALLOC needs its _FREE");
        assertThat(json.get("allAsExpected").asBoolean()).isTrue();
        assertThat(expectedOf(json, "wrongsize-samebucket")).isEqualTo("clean");
        assertThat(expectedOf(json, "ports")).isEqualTo("clean");
        assertThat(expectedOf(json, "memleak")).isEqualTo("panic");
    }

    @Test
    void underFailWithFindingsOffEverySampleStillEndsAsExpected() {
        assertThat(Cli.run("demo", "--leak-policy", "fail", "--no-findings").exitCode()).isZero();
    }

    private static String expectedOf(JsonNode json, String name) {
        for (JsonNode sample : json.get("samples")) {
            if (sample.get("name").asText().equals(name)) {
                return sample.get("expected").asText();
            }
        }
        throw new AssertionError("no sample " + name);
    }

    @Test
    void jsonHasEverySampleWithBothRuns() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("demo", "--json").out());

        List<String> names = SampleCatalog.all().stream().map(Sample::name).toList();
        assertThat(json.get("samples")).hasSize(names.size());
        assertThat(json.get("allAsExpected").asBoolean()).isTrue();
        for (int i = 0; i < names.size(); i++) {
            JsonNode sample = json.get("samples").get(i);
            assertThat(sample.get("name").asText()).isEqualTo(names.get(i));
            assertThat(sample.get("kext").get("outcome").asText()).isEqualTo(sample.get("expected").asText());
            assertThat(sample.get("twin").get("verdict").asText()).isEqualTo("clean");
        }
    }

    @Test
    void unknownSampleIsAUsageError() {
        assertUsageError(Cli.run("demo", "--sample", "nosuch"), "unknown sample 'nosuch'");
    }
}
