package dev.kextharness.cli.ports;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kextharness.cli.KextHarnessCli;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Help.Ansi;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

class PortCommandsTest {

    record Result(int exitCode, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = KextHarnessCli.commandLine(new PrintWriter(out), new PrintWriter(err), Ansi.OFF).execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void portsListsEveryBootProcessWithActivityMonitorsCount() {
        Result r = run("ports");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out().lines().findFirst().orElseThrow())
                .matches(" *PID +Process +Ports +Send +Receive +Send-once +Port sets +Dead names +Threads");
        assertThat(r.out()).containsPattern("(?m)^ +1  launchd +2 ")
                .containsPattern("(?m)^ +512  Safari +3 ");
    }

    @Test
    void theLeakingChromiumGainsOneDeadNamePerTaskAndTheFixedOneNone() throws Exception {
        JsonNode leaking = chromium(run("ports", "--chromium", "leaking", "--tasks", "40", "--json"));
        JsonNode fixed = chromium(run("ports", "--chromium", "fixed", "--tasks", "40", "--json"));

        assertThat(leaking.get("ports").asInt()).isEqualTo(fixed.get("ports").asInt() + 40);
        assertThat(leaking.get("deadNames").asInt()).isEqualTo(40);
        assertThat(fixed.get("deadNames").asInt()).isZero();
    }

    @Test
    void sortingByPortsPutsTheLeakFirst() {
        Result r = run("ports", "--chromium", "leaking", "--tasks", "10", "--sort", "ports");

        assertThat(r.out().lines().skip(1).findFirst().orElseThrow()).contains("Chromium ");
    }

    @Test
    void portTracerFindsTheHelperAndTheBrowsersOwnPorts() {
        Result r = run("port_tracer", "Chromium", "--chromium", "leaking", "--tasks", "25");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("port_tracer: Chromium [600]: 28 port names (2 send, 1 receive, 25 dead names)")
                .contains("Chromium Helper          [  601] shares 2 ports")
                .contains("Chromium                 [  600] holds 26 ports no other process holds");
    }

    @Test
    void portTracerAndPortsCountTheSameDeadNames() throws Exception {
        JsonNode traced = new ObjectMapper().readTree(
                run("port_tracer", "Chromium", "--chromium", "leaking", "--tasks", "25", "--json").out());
        JsonNode counted = chromium(run("ports", "--chromium", "leaking", "--tasks", "25", "--json"));

        assertThat(traced.get("deadNames").asInt()).isEqualTo(counted.get("deadNames").asInt()).isEqualTo(25);
        assertThat(traced.get("send").asInt()).isEqualTo(counted.get("send").asInt());
        assertThat(traced.get("ports").asInt()).isEqualTo(counted.get("ports").asInt());
    }

    @Test
    void aBrowserThatRunsOutOfPortsPrintsItsCrashReportFirstAndExitsSix() {
        Result r = run("ports", "--chromium", "leaking", "--tasks", "400000");

        assertThat(r.exitCode()).isEqualTo(6);
        assertThat(r.out()).startsWith("Process:               Chromium [600]")
                .contains("__THE_SYSTEM_HAS_NO_PORTS_AVAILABLE__")
                .contains("=== Chromium [600] crashed (exit status 6); what follows was taken after the crash ===");
        String census = r.out().substring(r.out().indexOf("==="));
        assertThat(census).contains("PID  Process").doesNotContain("Chromium   ").contains("Chromium Helper");
        assertThat(run("ports", "--help").out()).contains("6   the browser started with --chromium crashed");
    }

    @Test
    void portTracerOnACrashedBrowserSaysItIsGoneAndExitsSix() {
        Result r = run("port_tracer", "Chromium", "--chromium", "leaking", "--tasks", "400000");

        assertThat(r.exitCode()).isEqualTo(6);
        assertThat(r.out()).startsWith("Process:               Chromium [600]")
                .endsWith("port_tracer: Chromium [600] is gone; a crashed process has no ports to trace\n");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void portTracerByPidAsJsonShowsWhoSharesLaunchdsBootstrapPort() throws Exception {
        JsonNode json = new ObjectMapper().readTree(run("port_tracer", "1", "--json").out());

        assertThat(json.get("process").asText()).isEqualTo("launchd");
        assertThat(json.get("sharing")).hasSize(9); // every other boot process holds a send right to it
    }

    @Test
    void anUnknownProcessIsAUsageErrorListingTheLiveOnes() {
        Result r = run("port_tracer", "nosuch");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).startsWith("kext-harness port_tracer: no process 'nosuch' is running")
                .contains("Safari [512]").contains("--chromium leaking").doesNotContain("Exception");
    }

    @Test
    void badOptionValuesAreUsageErrors() {
        assertThat(run("ports", "--sort", "size").err()).contains("--sort takes pid or ports, not 'size'");
        assertThat(run("ports", "--chromium", "beta").exitCode()).isEqualTo(2);
        assertThat(run("ports", "--tasks", "-1", "--chromium", "leaking").err()).contains("--tasks must be between");
    }

    private static JsonNode chromium(Result r) throws Exception {
        assertThat(r.exitCode()).isZero();
        for (JsonNode p : new ObjectMapper().readTree(r.out()).get("processes")) {
            if (p.get("process").asText().equals("Chromium")) {
                return p;
            }
        }
        throw new AssertionError("no Chromium row in " + r.out());
    }
}
