package dev.kextharness.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.Help.Ansi;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static dev.kextharness.cli.LoadCommandTest.assertUsageError;
import static org.assertj.core.api.Assertions.assertThat;

class CommandLineTest {

    @ParameterizedTest
    @ValueSource(strings = {"demo", "load", "zprint", "kextstat", "ioalloccount", "sizeclass"})
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
