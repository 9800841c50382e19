package dev.kextharness.cli.ports;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.cli.ExitCodes;
import dev.kextharness.cli.Json;
import dev.kextharness.cli.KernelOptions;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ipc.Task;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.user.ProcessCrash;
import dev.kextharness.kernel.user.UserProcess;
import dev.kextharness.samples.ports.PortInspectorKext;
import dev.kextharness.samples.ports.userland.PortTracer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code port_tracer <pid|name>}: the article's tool. Loads the port-inspector kext, asks its
 * {@code debug.port_tracer} sysctl for every process's message-queue addresses, and lists who
 * shares ports with the target, and how many ports the target holds alone.
 */
@Command(name = "port_tracer", mixinStandardHelpOptions = true,
        description = {"Find which processes hold the other ends of a process's ports, as the port-leak article's "
                + "port_tracer does: through the port-inspector kext's debug.port_tracer sysctl, which returns the "
                + "message-queue address both ends of a port share.",
                "With --chromium, the article's browser runs first; trace it by name: port_tracer Chromium "
                        + "--chromium leaking. If it runs out of port names it crashes: its crash report is printed "
                        + "first, and a crashed process cannot be traced."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
                "0:the process was traced",
                "1:internal error of the harness",
                "2:usage error (no such process, bad option value)",
                "6:the browser started with --chromium crashed (its crash report is printed first)"})
public final class PortTracerCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "<pid|name>", description = "The process to trace: a pid or a process name.")
    private String target;

    @Option(names = "--json", description = "Print the report as JSON instead.")
    private boolean json;

    @Mixin
    private ChromiumOptions chromium;

    @Mixin
    private KernelOptions kernelOptions;

    @Override
    public Integer call() {
        chromium.validate(spec.commandLine());
        Kernel kernel = kernelOptions.boot();
        PrintWriter out = spec.commandLine().getOut();
        ProcessCrash crash = chromium.startOrCrash(kernel);
        if (crash != null) {
            out.print(ChromiumOptions.crashBanner(crash));
            if (find(kernel) == null) {
                out.printf("port_tracer: %s [%d] is gone; a crashed process has no ports to trace%n",
                        crash.report().process(), crash.report().pid());
                out.flush();
                return ExitCodes.PROCESS_CRASHED;
            }
        }
        int pid = resolve(kernel);
        LoadedKext inspector = kernel.kextload(PortInspectorKext.class);
        UserProcess tool = UserProcess.spawn(kernel, "port_tracer");
        PortTracer.Report report = PortTracer.open(tool).trace(pid, PortTracer.names(kernel));
        tool.exit();
        kernel.kextunload(inspector);
        if (json) {
            ObjectNode root = Json.object();
            root.put("pid", report.targetPid());
            root.put("process", report.target());
            root.put("ports", report.names());
            root.put("send", report.send());
            root.put("receive", report.receive());
            root.put("deadNames", report.deadNames());
            root.put("heldAlone", report.alone());
            ArrayNode sharing = root.putArray("sharing");
            for (PortTracer.Sharing s : report.sharing()) {
                sharing.addObject().put("pid", s.pid()).put("process", s.process()).put("shared", s.shared());
            }
            out.println(Json.write(root));
        } else {
            out.print(report.render());
        }
        out.flush();
        return crash == null ? ExitCodes.CLEAN : ExitCodes.PROCESS_CRASHED;
    }

    /** The live process named by the target (a pid, or the lowest pid with that name), or null. */
    private Task find(Kernel kernel) {
        for (Task t : kernel.ipc().tasks()) {
            if (t.pid() != 0 && (t.name().equals(target) || Integer.toString(t.pid()).equals(target.strip()))) {
                return t;
            }
        }
        return null;
    }

    /** A pid, or the lowest pid of a process with that name; anything else is a usage error naming the live ones. */
    private int resolve(Kernel kernel) {
        Task found = find(kernel);
        if (found == null || !found.isAlive()) {
            StringBuilder live = new StringBuilder();
            kernel.ipc().tasks().stream().filter(t -> t.pid() != 0)
                    .forEach(t -> live.append(live.length() == 0 ? "" : ", ").append(t.name()).append(" [")
                            .append(t.pid()).append(']'));
            throw new ParameterException(spec.commandLine(), "no process '" + target + "' is running; give a pid or "
                    + "name of one of: " + live + (chromium.build == null ? " (add --chromium leaking to start the "
                    + "article's browser)" : ""));
        }
        return found.pid();
    }
}
