package dev.kextharness.cli.ports;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.cli.ExitCodes;
import dev.kextharness.cli.Json;
import dev.kextharness.cli.KernelOptions;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ipc.PortCensus;
import dev.kextharness.kernel.user.ProcessCrash;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code ports}: every process's port names, the column Activity Monitor calls "Ports"
 * ({@code mach_port_names}), with the rights behind them.
 */
@Command(name = "ports", mixinStandardHelpOptions = true,
        description = {"Print each process's port count, as Activity Monitor's Ports column counts it "
                + "(mach_port_names), with the rights behind it.",
                "With --chromium, the port-leak article's browser runs first: its leaking build gains one "
                        + "dead name per worker-thread task. If it runs out of port names it crashes, as in the "
                        + "article: its crash report is printed first, then the census taken after the crash."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
                "0:the census was printed",
                "1:internal error of the harness",
                "2:usage error (bad option value)",
                "6:the browser started with --chromium crashed (its crash report is printed before the census)"})
public final class PortsCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print the census as JSON instead.")
    private boolean json;

    @Option(names = "--sort", paramLabel = "pid|ports", defaultValue = "pid",
            description = "Order of the rows: by pid (default) or by port count, largest first.")
    private String sort;

    @Mixin
    private ChromiumOptions chromium;

    @Mixin
    private KernelOptions kernelOptions;

    @Override
    public Integer call() {
        if (!sort.equals("pid") && !sort.equals("ports")) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--sort takes pid or ports, not '" + sort + "'");
        }
        chromium.validate(spec.commandLine());
        Kernel kernel = kernelOptions.boot();
        PrintWriter out = spec.commandLine().getOut();
        ProcessCrash crash = chromium.startOrCrash(kernel);
        if (crash != null && !json) {
            out.print(ChromiumOptions.crashBanner(crash));
        }
        List<PortCensus.Row> rows = new ArrayList<>(kernel.portCensus().rows());
        if (sort.equals("ports")) {
            rows.sort(Comparator.comparingInt(PortCensus.Row::names).reversed());
        }
        if (json) {
            ObjectNode root = Json.object();
            ArrayNode array = root.putArray("processes");
            for (PortCensus.Row r : rows) {
                ObjectNode n = array.addObject();
                n.put("pid", r.pid());
                n.put("process", r.process());
                n.put("ports", r.names());
                n.put("send", r.send());
                n.put("receive", r.receive());
                n.put("sendOnce", r.sendOnce());
                n.put("portSets", r.portSets());
                n.put("deadNames", r.deadNames());
                n.put("urefs", r.urefs());
                n.put("tableSize", r.tableSize());
                n.put("threads", r.threads());
            }
            if (crash != null) {
                root.put("crashReport", crash.report().render());
            }
            out.println(Json.write(root));
        } else {
            out.print(render(rows));
        }
        out.flush();
        return crash == null ? ExitCodes.CLEAN : ExitCodes.PROCESS_CRASHED;
    }

    /** The census as a table, Activity Monitor's columns first. */
    static String render(List<PortCensus.Row> rows) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%5s  %-20s %7s %7s %7s %9s %9s %10s %7s%n",
                "PID", "Process", "Ports", "Send", "Receive", "Send-once", "Port sets", "Dead names", "Threads"));
        for (PortCensus.Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%5d  %-20s %7d %7d %7d %9d %9d %10d %7d%n", r.pid(),
                    r.process().length() > 20 ? r.process().substring(0, 20) : r.process(), r.names(), r.send(),
                    r.receive(), r.sendOnce(), r.portSets(), r.deadNames(), r.threads()));
        }
        return sb.toString().replace("\r\n", "\n");
    }
}
