package dev.kextharness.cli;

import dev.kextharness.samples.Sample;
import dev.kextharness.samples.SampleCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.Help.Ansi;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.kextharness.cli.LoadCommandTest.assertUsageError;
import static org.assertj.core.api.Assertions.assertThat;

class CommandLineTest {

    @ParameterizedTest
    @ValueSource(strings = {"demo", "load", "zprint", "kextstat", "ioalloccount", "sizeclass", "ports", "port_tracer",
            "soak"})
    void everyCommandHasHelpWithItsExitStatuses(String command) {
        Cli.Result r = Cli.run(command, "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("Usage: kext-harness " + command).contains("Exit status:");
        assertThat(Cli.run(command, "-h").out()).isEqualTo(r.out());
    }

    @Test
    void loadHelpDocumentsEveryExitStatus() {
        assertThat(Cli.run("load", "--help").out())
                .contains("0   the kext unloaded clean")
                .contains("2   usage error")
                .contains("3   leak")
                .contains("4   the simulated kernel panicked")
                .contains("5   the kext failed to load or unload");
    }

    @ParameterizedTest
    @ValueSource(strings = {"demo", "load"})
    void sampleListKeepsItsColumnsForTheLongestNameAndWrappedTitles(String command) {
        String help = Cli.run(command, "--help").out();
        List<String> list = help.substring(help.indexOf("Samples (the catalog, in tour order):")).lines().skip(1).toList();
        int nameWidth = SampleCatalog.all().stream().mapToInt(s -> s.name().length()).max().orElseThrow();
        String titleColumn = " ".repeat(2 + nameWidth + 2);

        assertThat(list).hasSizeGreaterThanOrEqualTo(SampleCatalog.all().size());
        for (String line : list) {
            assertThat(line).hasSizeLessThanOrEqualTo(80);
            String name = line.substring(2, 2 + nameWidth).strip();
            if (name.isEmpty()) {
                assertThat(line).startsWith(titleColumn).doesNotStartWith(titleColumn + " ");
            } else {
                assertThat(SampleCatalog.find(name)).as(line).isPresent();
                assertThat(line).startsWith("  " + name).matches("  \\S+ +\\S.*");
                assertThat(line.charAt(titleColumn.length())).as(line).isNotEqualTo(' ');
                assertThat(line.charAt(titleColumn.length() - 1)).as(line).isEqualTo(' ');
            }
        }
        for (Sample sample : SampleCatalog.all()) {
            assertThat(String.join(" ", list).replaceAll(" +", " ")).contains(sample.name() + " " + sample.title());
        }
    }

    @Test
    void aTitleTooLongForTheLineIsWrappedIntoTheTitleColumn() {
        Sample any = SampleCatalog.all().get(0);
        Sample shortName = new Sample("short", "a title", any.kext(), any.twin(), any.rule(), any.expected(),
                any.exercise());
        Sample longName = new Sample("a-very-long-sample-name", "one two three four five six seven eight", any.kext(),
                any.twin(), any.rule(), any.expected(), any.exercise());

        assertThat(KextHarnessCli.sampleList(List.of(shortName, longName), 50)).containsExactly(
                "  short                    a title",
                "  a-very-long-sample-name  one two three four five",
                "                           six seven eight");
    }

    @ParameterizedTest
    @ValueSource(strings = {"ports", "port_tracer"})
    void thePortCommandsListSuccessErrorsAndTheBrowsersCrash(String command) {
        assertThat(exitStatuses(command)).containsExactly("0", "1", "2", "6");
    }

    @Test
    void eachCommandListsOnlyTheStatusesItCanReturn() {
        assertThat(exitStatuses("load")).containsExactly("0", "1", "2", "3", "4", "5");
        assertThat(exitStatuses("zprint")).containsExactly("0", "1", "2", "3", "4", "5");
        assertThat(exitStatuses("soak")).containsExactly("0", "1", "2", "4", "5");
        assertThat(exitStatuses("sizeclass")).containsExactly("0", "1", "2");
        assertThat(exitStatuses("demo")).containsExactly("0", "1", "2");
        assertThat(Cli.run("soak", "--help").out()).contains("4   the simulated kernel panicked (the zone map ran out)")
                .doesNotContain("the kext unloaded clean");
        assertThat(Cli.run("zprint", "--help").out()).contains("3   with --unload, a kext given with --load leaked");
    }

    /** The status numbers in the Exit status section of a command's --help. */
    private static List<String> exitStatuses(String command) {
        String help = Cli.run(command, "--help").out();
        String section = help.substring(help.indexOf("Exit status:"));
        return section.lines().skip(1).takeWhile(line -> !line.isBlank())
                .filter(line -> line.matches("  \\d +\\S.*")).map(line -> line.strip().split(" ")[0]).toList();
    }

    @Test
    void versionNamesTheSimulatedXnu() {
        Cli.Result r = Cli.run("--version");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("kext-harness").contains("xnu-6153.141.1");
    }

    @Test
    void noCommandAndUnknownCommandAreUsageErrors() {
        assertUsageError(Cli.run(), "give a command");
        assertUsageError(Cli.run("frobnicate"), "Unmatched argument");
    }

    @Test
    void coloursOnlyOnATerminal() {
        assertThat(Terminal.ansi(Map.of(), null)).isEqualTo(Ansi.OFF);
        assertThat(Terminal.ansi(Map.of("NO_COLOR", "1"), null)).isEqualTo(Ansi.OFF);
        assertThat(Terminal.isTerminal(null)).isFalse();
    }

    @Test
    void byteSizesAreBinary() {
        assertThat(ByteSize.parse("32G")).isEqualTo(32L << 30);
        assertThat(ByteSize.parse("512MiB")).isEqualTo(512L << 20);
        assertThat(ByteSize.parse("4097")).isEqualTo(4097);
        assertThat(ByteSize.format(32L << 30)).isEqualTo("32G");
        assertThat(ByteSize.format(4097)).isEqualTo("4097");
    }

    @Test
    void launcherIsAnExecutableValidBashScript() throws Exception {
        Path launcher = Path.of("../../kext-harness").toAbsolutePath().normalize();

        assertThat(launcher).isRegularFile();
        assertThat(Files.isExecutable(launcher)).isTrue();
        Process bash = new ProcessBuilder("bash", "-n", launcher.toString()).redirectErrorStream(true).start();
        String output = new String(bash.getInputStream().readAllBytes());
        assertThat(bash.waitFor()).as(output).isZero();
    }
}
