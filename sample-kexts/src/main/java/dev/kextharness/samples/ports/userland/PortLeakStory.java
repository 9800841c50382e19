package dev.kextharness.samples.ports.userland;

import dev.kextharness.kernel.Kernel;

/**
 * The port-leak article as one run: the leaking browser works for a while, the port-inspector
 * kext is loaded, and port_tracer shows whose ports the browser holds. Printed to the kernel log,
 * so the demo and {@code load ports} show it.
 */
public final class PortLeakStory {
    /** Worker-thread tasks the browser runs before port_tracer looks. */
    public static final int TASKS = 500;

    private PortLeakStory() {
    }

    /** Runs the leaking browser and traces it; returns port_tracer's report. Needs the inspector kext loaded. */
    public static PortTracer.Report run(Kernel kernel, boolean fixedBrowser, int tasks) {
        ChromiumBrowser browser = ChromiumBrowser.launch(kernel, fixedBrowser);
        int before = kernel.portCensus().portCountOf(browser.pid());
        browser.runTasks(tasks);
        int after = kernel.portCensus().portCountOf(browser.pid());
        kernel.log().printf(String.format("Chromium [%d] (%s build) ran %d tasks: %d -> %d port names",
                browser.pid(), fixedBrowser ? "fixed" : "leaking", tasks, before, after));
        PortTracer tracer = PortTracer.open(browser.helper());
        PortTracer.Report report = tracer.trace(browser.pid(), PortTracer.names(kernel));
        for (String line : report.render().split("\n")) {
            kernel.log().printf(line);
        }
        return report;
    }
}
