package dev.kextharness.cli.soak;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kextharness.cli.ExitCodes;
import dev.kextharness.cli.KextHarnessCli;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import dev.kextharness.kernel.soak.Soak;
import dev.kextharness.kernel.soak.SoakConfig;
import dev.kextharness.kernel.soak.Until;
import picocli.CommandLine;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The soak command on a 256 MiB Mac: the same path as the 32 GiB replay, in a second or two. */
class SoakCommandTest {
    private static final Pattern PANIC = Pattern.compile("\"zalloc: zone map exhausted while allocating from zone "
            + "(\\S+), likely due to memory leak in zone kalloc\\.48 \\((\\d+) total bytes, (\\d+) elements allocated\\)\"");

    @TempDir
    static Path shared;
    private static Result toPanic;

    record Result(int exitCode, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = KextHarnessCli.commandLine(new PrintWriter(out), new PrintWriter(err), Ansi.OFF).execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @BeforeAll
    static void soakToThePanic() {
        toPanic = run("soak", "--ram", "256M", "--out", shared.resolve("panic").toString());
    }

    @Test
    void namesRepeatedInTheSummaryAreCountedOnce() {
        assertThat(SoakCommand.timesEach(List.of("photoanalysisd", "lsd", "photoanalysisd", "cloudd", "photoanalysisd")))
                .isEqualTo("photoanalysisd x3, lsd, cloudd");
        assertThat(SoakCommand.timesEach(List.of())).isEmpty();
    }

    @Test
    void soaksTheSlowleakSampleToTheZoneMapPanicAndExitsWithThePanicStatus() {
        assertThat(toPanic.exitCode()).isEqualTo(ExitCodes.PANIC);
        assertThat(toPanic.err()).as("no progress bar without a terminal").isEmpty();
        assertThat(toPanic.out())
                .startsWith("soak: slowleak (dev.kextharness.samples.slowleak.SlowLeakKext) on a 256M Mac, zone map "
                        + "115.0 MiB, jetsam limit 95%, 110 requests/s, until panic\n")
                .contains("+0100 kernel slowleak: started, 40-byte request records\n")
                .contains("+0100 kernel zone_map_exhaustion: Zone map size ")
                .contains("+0100 kernel zone_map_exhaustion: Largest zone kalloc.48, size ")
                .contains("+0100 kernel zone_map_exhaustion: Nothing to do for the largest zone [kalloc.48]. "
                        + "Waking up memorystatus thread.\n")
                .contains(" memorystatus: killing_highwater_process pid 470 [photoanalysisd] (highwater 0) 72704KB - "
                        + "memorystatus_available_pages: ")
                .contains("+0100 OSAnalytics Process photoanalysisd [470] killed by jetsam reason highwater\n")
                .contains(" memorystatus: killing_highwater_process pid 600 [photoanalysisd] (highwater 0) 72704KB - ")
                .contains("\nended: the kernel panicked: zalloc: zone map exhausted while allocating from zone kalloc.12288, ")
                .containsPattern("\njetsam: (\\d+) processes killed \\(photoanalysisd x\\1\\), [\\d,]+ bytes of zone memory freed\n"
                        + "launchd: \\d+ daemons relaunched \\(photoanalysisd(?: x\\d+)?\\), their caches took [\\d,]+ bytes "
                        + "of zone memory\n");
        // The summary's largest zone and the panic agree, count for count.
        Matcher panic = PANIC.matcher(toPanic.out());
        assertThat(panic.find()).isTrue();
        assertThat(toPanic.out()).contains(String.format("largest zone kalloc.48: %,d bytes, %,d elements",
                Long.parseLong(panic.group(2)), Long.parseLong(panic.group(3))));
    }

    @Test
    void writesTheLogThePanicLogAndTheChart() throws IOException {
        Path dir = shared.resolve("panic");
        List<Path> files;
        try (Stream<Path> list = Files.list(dir)) {
            files = list.sorted().toList();
        }
        assertThat(files).extracting(p -> p.getFileName().toString())
                .hasSize(4).contains("soak.log", "soak.png", "soak.svg")
                .anyMatch(name -> name.matches("Kernel-20\\d\\d-\\d\\d-\\d\\d-\\d{6}\\.panic"));
        Path panicFile = files.stream().filter(p -> p.toString().endsWith(".panic")).findFirst().orElseThrow();
        String panicLog = Files.readString(panicFile);
        assertThat(panicLog).startsWith("panic(cpu 0 caller 0x").contains("zalloc.c:3627")
                .contains("likely due to memory leak in zone kalloc.48").contains("Zone Name");
        String log = Files.readString(dir.resolve("soak.log"));
        assertThat(toPanic.out()).contains(log);
        byte[] png = Files.readAllBytes(dir.resolve("soak.png"));
        assertThat(png.length).isGreaterThan(10_000);
        assertThat(new String(png, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
        String svg = Files.readString(dir.resolve("soak.svg"));
        // VectorGraphics2D draws the text as outlines: the series are paths.
        assertThat(svg).contains("<svg").contains("<path");
        assertThat(svg.length()).isGreaterThan(10_000);
        assertThat(toPanic.out()).contains("wrote: " + dir.resolve("soak.log") + ", " + panicFile + ", "
                + dir.resolve("soak.png") + ", " + dir.resolve("soak.svg"));
    }

    @Test
    void jsonSummaryOfASoakToThePanicParsesAndCarriesCountsKillsPanicAndFiles(@TempDir Path out) throws IOException {
        Result r = run("soak", "--ram", "256M", "--chart", "none", "--json", "--out", out.toString());

        ObjectMapper mapper = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        JsonNode json = mapper.readTree(r.out());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.PANIC);
        assertThat(r.err()).isEmpty();
        assertThat(json.get("kext").asText()).isEqualTo("slowleak");
        assertThat(json.get("result").asText()).isEqualTo("panic");
        assertThat(json.get("exitCode").asInt()).isEqualTo(ExitCodes.PANIC);
        assertThat(json.get("leakZone").asText()).isEqualTo("kalloc.48");
        assertThat(json.get("kextLive").asLong()).isPositive().isEqualTo(json.get("kextAllocations").asLong());
        assertThat(json.get("kills")).isNotEmpty()
                .allSatisfy(kill -> assertThat(kill.get("name").asText()).isEqualTo("photoanalysisd"));
        Matcher panic = PANIC.matcher("\"" + json.get("panic").get("panicString").asText().strip() + "\"");
        assertThat(panic.matches()).as(json.get("panic").get("panicString").asText()).isTrue();
        assertThat(json.get("zoneMap").get("largestZone").get("count").asLong()).isEqualTo(Long.parseLong(panic.group(3)));
        List<String> files = mapper.convertValue(json.get("files"), new TypeReference<List<String>>() { });
        assertThat(files).hasSize(2).contains(out.resolve("soak.log").toString())
                .anyMatch(f -> f.endsWith(".panic"));
        assertThat(files).allMatch(f -> Files.isRegularFile(Path.of(f)));
    }

    @Test
    void jsonSummaryOfASoakStoppedByUntilHasNoPanic(@TempDir Path out) throws IOException {
        Result r = run("soak", "--ram", "256M", "--until", "20k", "--chart", "none", "--json", "--out", out.toString());

        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(json.get("result").asText()).isEqualTo("until");
        assertThat(json.get("kextLive").asLong()).isEqualTo(20_000);
        assertThat(json.get("panic").isNull()).isTrue();
        assertThat(Files.readString(out.resolve("soak.log"))).contains("slowleak: started");
    }

    @Test
    void untilANumberOfAllocationsStopsCleanWithoutAPanicLog(@TempDir Path out) throws IOException {
        Result r = run("soak", "slowleak", "--ram", "256M", "--until", "20k", "--chart", "png", "--out", out.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).contains("until 20000 allocations")
                .contains("ended: stopped after 20000 allocations by the kext, as --until asked")
                .contains("kext: 20,000 requests, 20,000 allocations, 20,000 live in kalloc.48")
                .doesNotContain("panic(cpu");
        try (Stream<Path> list = Files.list(out)) {
            assertThat(list.map(p -> p.getFileName().toString()).sorted()).containsExactly("soak.log", "soak.png");
        }
    }

    @Test
    void untilAFractionOfTheMapWithAnotherZoneAndNoChart(@TempDir Path out) throws IOException {
        Result r = run("soak", "--ram", "256M", "--until", "60%", "--zone", "kalloc.64", "--rate", "2000",
                "--chart", "none", "--out", out.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).contains("slowleak: started, 64-byte request records")
                .contains("% of its capacity, as --until asked").contains("live in kalloc.64")
                .contains("jetsam: 0 processes killed, 0 bytes");
        try (Stream<Path> list = Files.list(out)) {
            assertThat(list.map(p -> p.getFileName().toString())).containsExactly("soak.log");
        }
    }

    @Test
    void soaksAUsersKextClassFromItsOwnClassPath(@TempDir Path dir) throws IOException {
        // A kext compiled outside the harness, as a user's would be: its request interface lives
        // only on --classpath, in a loader the harness itself cannot see.
        Path src = Files.createDirectories(dir.resolve("src/com/example/soak"));
        Files.writeString(src.resolve("Requests.java"), "package com.example.soak;\n"
                + "public interface Requests { void handle(int requests); }\n");
        Files.writeString(src.resolve("LeakyKext.java"), "package com.example.soak;\n"
                + "import dev.kextharness.kpi.*;\n"
                + "@KextBundle(id = \"com.example.soak.leaky\", libraries = {KextBundle.KPI_UNSUPPORTED})\n"
                + "public class LeakyKext implements Kext, Requests {\n"
                + "  public int start(KmodInfo ki, long data) { return 0; }\n"
                + "  public int stop(KmodInfo ki, long data) { return 0; }\n"
                + "  public void handle(int n) { for (int i = 0; i < n; i++) { Kalloc.kalloc(100); } }\n"
                + "}\n");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int compiled = javac.run(null, null, null, "-d", classes.toString(), "-cp", System.getProperty("java.class.path"),
                src.resolve("Requests.java").toString(), src.resolve("LeakyKext.java").toString());
        assertThat(compiled).isZero();

        Result r = run("soak", "com.example.soak.LeakyKext", "--classpath", classes.toString(), "--ram", "256M",
                "--until", "10k", "--chart", "none", "--out", dir.resolve("out").toString());

        assertThat(r.exitCode()).as(r.err()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).startsWith("soak: com.example.soak.LeakyKext (com.example.soak.LeakyKext) on a 256M Mac")
                .contains("kext: 10,000 requests, 10,000 allocations, 10,000 live in kalloc.128");
    }

    @Test
    void badOptionsGiveOneLineAndTheUsageStatus(@TempDir Path out) {
        String[][] cases = {
                {"--until", "soon"},
                {"--zone", "kalloc.47"},
                {"--rate", "0"},
                {"--ram", "1M"},
                {"--jetsam-limit", "101"},
                {"--chart", "gif"},
                {"nosuchkext"},
                {"memleak"},
        };
        String[] expected = {
                "kext-harness soak: --until takes 'panic', a number of allocations (such as 1000000 or 5M) or a "
                        + "fraction of the zone map (such as 0.5 or 50%), not 'soon'",
                "kext-harness soak: --zone must be one of the kalloc zones (kalloc.16, kalloc.32,",
                "kext-harness soak: --rate must be between 0.001 and 1e9 requests per simulated second, not 0.0",
                "kext-harness soak: physical memory of 1048576 bytes is too small",
                "kext-harness soak: zone_map_jetsam_limit must be 1..100 percent, not 101",
                "kext-harness soak: --chart takes png, svg, both or none, not 'gif'",
                "kext-harness soak: unknown kext 'nosuchkext'",
                "kext-harness soak: kext class dev.kextharness.samples.memleak.MemleakKext has no request method to "
                        + "soak: it must implement a public interface that declares handle(int requests)",
        };
        for (int i = 0; i < cases.length; i++) {
            Stream<String> ram = List.of(cases[i]).contains("--ram") ? Stream.of() : Stream.of("--ram", "256M");
            String[] args = Stream.of(Stream.of("soak", "--out", out.toString()), ram, Stream.of(cases[i]))
                    .flatMap(a -> a).toArray(String[]::new);
            Result r = run(args);
            assertThat(r.exitCode()).as(String.join(" ", cases[i])).isEqualTo(ExitCodes.USAGE);
            assertThat(r.err().lines().toList()).as(String.join(" ", cases[i])).hasSize(2);
            assertThat(r.err()).as(String.join(" ", cases[i])).startsWith(expected[i])
                    .contains("Try 'kext-harness soak --help' for usage.")
                    .doesNotContain("Exception").doesNotContain("\tat ");
        }
    }

    @Test
    void aSoakWhoseLedgerWouldNotFitTheHeapIsRefusedWithTheRemedy() {
        SoakCommand command = new SoakCommand();
        new CommandLine(command); // injects the command's spec
        long needed = Soak.estimatedHeapBytes(SoakConfig.defaults()) >> 20;
        assertThatThrownBy(() -> command.checkHeap(SoakConfig.defaults(), 512L << 20))
                .isInstanceOf(ParameterException.class)
                .hasMessage("a soak of a 32G Mac to the panic needs about " + needed + " MiB of Java heap and this JVM "
                        + "has 512 MiB: run with KEXT_HARNESS_JAVA_OPTS=-Xmx" + (needed + 256) + "m, or give a smaller "
                        + "--ram or --until");
        assertThatCode(() -> command.checkHeap(SoakConfig.defaults(), 1536L << 20)).doesNotThrowAnyException();
        // A run to a number of allocations holds only those.
        assertThatCode(() -> command.checkHeap(SoakConfig.defaults().withUntil(Until.parse("5M")), 64L << 20))
                .doesNotThrowAnyException();
    }

    @Test
    void helpNamesEveryOption() {
        Result r = run("soak", "--help");
        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).contains("--ram").contains("--rate").contains("--zone").contains("--jetsam-limit")
                .contains("--until").contains("--out").contains("--chart").contains("--max-points")
                .contains("--[no-]progress");
    }
}
