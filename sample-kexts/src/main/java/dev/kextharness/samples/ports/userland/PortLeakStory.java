package dev.kextharness.samples.ports.userland;

import dev.kextharness.kernel.Kernel;

/**
 * The port-leak article as one run: the browser (leaking or fixed build) works for a while with the
 * port-inspector kext loaded, port_tracer shows whose ports it holds, and the run ends with a
 * line naming the leak and its cause, or confirming the fix. Printed to the kernel log,
 * so the demo and {@code load ports} show it.
 */
public final class PortLeakStory {
    /** Worker-thread tasks the browser runs before port_tracer looks. */
    public static final int TASKS = 500;

    private PortLeakStory() {
    }

    /** Runs the browser and traces it; returns port_tracer's report. Needs the inspector kext loaded. */
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
        kernel.log().printf(judge(browser, after - before, report));
        return report;
    }

    /** The story's conclusion: the article's bug named when the browser leaked, the fix confirmed when it did not. */
    static String judge(ChromiumBrowser browser, int gained, PortTracer.Report report) {
        if (gained > 0) {
            return String.format("LEAK: Chromium [%d] gained %d port names in %d tasks, %d of them dead names held by "
                            + "no other process: PlatformThread::CurrentId() calls mach_thread_self(), which, unlike "
                            + "the cached mach_task_self(), adds a send-right reference on every call, and the leaking "
                            + "build never calls mach_port_deallocate on it",
                    browser.pid(), gained, browser.tasksRun(), report.deadNames());
        }
        return String.format("fixed: Chromium [%d] holds no more port names after %d tasks than before: each "
                + "mach_thread_self() reference is released with mach_port_deallocate", browser.pid(), browser.tasksRun());
    }
}
