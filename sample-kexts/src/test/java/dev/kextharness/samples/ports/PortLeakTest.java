package dev.kextharness.samples.ports;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ipc.PortCensus;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.user.ProcessCrash;
import dev.kextharness.kernel.user.UserProcess;
import dev.kextharness.samples.Sample;
import dev.kextharness.samples.SampleCatalog;
import dev.kextharness.samples.ports.userland.ChromiumBrowser;
import dev.kextharness.samples.ports.userland.PortLeakStory;
import dev.kextharness.samples.ports.userland.PortTracer;
import org.junit.jupiter.api.Test;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The port-leak article replayed: the leak is found, port_tracer points at the browser, the fix holds. */
@KextTest(leakPolicy = LeakPolicy.PANIC)
class PortLeakTest {

    @Test
    void theLeakingBrowserGainsOnePortNamePerTask(Kernel kernel) {
        ChromiumBrowser browser = ChromiumBrowser.launch(kernel, false);
        int before = kernel.portCensus().portCountOf(browser.pid());

        browser.runTasks(100);

        assertThat(kernel).portCountOf(browser.pid()).isEqualTo(before + 100);
        assertThat(kernel.portCensus().of(browser.pid()).orElseThrow().deadNames()).isEqualTo(100);
    }

    @Test
    void theArticlesCiCheckHoldsForTheFixedBrowser(Kernel kernel) {
        ChromiumBrowser browser = ChromiumBrowser.launch(kernel, true);
        int before = kernel.portCensus().portCountOf(browser.pid());

        browser.runTasks(100);

        assertThat(kernel).portCountOf(browser.pid()).isEqualTo(before);
    }

    @Test
    void portTracerFindsTheHelperAndTheBrowsersUnsharedPorts(Kernel kernel) {
        LoadedKext inspector = kernel.kextload(PortInspectorKext.class);
        ChromiumBrowser browser = ChromiumBrowser.launch(kernel, false);
        browser.runTasks(50);

        PortTracer.Report report = PortTracer.open(browser.helper()).trace(browser.pid(), PortTracer.names(kernel));

        assertThat(report.sharing()).anySatisfy(s -> {
            assertThat(s.process()).isEqualTo("Chromium Helper");
            assertThat(s.shared()).isEqualTo(2); // the browser's listener and the helper's own port
        });
        assertThat(report.alone()).isGreaterThanOrEqualTo(50); // the leaked thread names: nobody else holds them
        assertThat(report.render()).contains("Chromium [" + browser.pid() + "]").contains("Chromium Helper");
        kernel.kextunload(inspector);
        assertThat(kernel.leakReport(inspector).isClean()).isTrue();
    }

    @Test
    void messageQueueAddressesLinkBothEndsOfAPort(Kernel kernel) {
        kernel.kextload(PortInspectorKext.class);
        ChromiumBrowser browser = ChromiumBrowser.launch(kernel, true);
        PortTracer tracer = PortTracer.open(browser.helper());

        var browserQueues = tracer.entries(browser.pid(), ~0).stream().map(PortTracer.Entry::mqueue).toList();
        var helperQueues = tracer.entries(browser.helper().pid(), ~0).stream().map(PortTracer.Entry::mqueue).toList();

        assertThat(browserQueues).filteredOn(q -> q != 0).filteredOn(helperQueues::contains).hasSize(2);
    }

    @Test
    void theLeakingBrowserEventuallyCrashesWithNoPortsAvailable(Kernel kernel) {
        ChromiumBrowser browser = ChromiumBrowser.launch(kernel, false);

        assertThatThrownBy(() -> browser.runTasks(Long.MAX_VALUE))
                .isInstanceOfSatisfying(ProcessCrash.class, crash -> {
                    assertThat(crash.report().render()).contains("__THE_SYSTEM_HAS_NO_PORTS_AVAILABLE__")
                            .contains("*** The system has no mach ports available.");
                    assertThat(crash.report().process()).isEqualTo("Chromium");
                });
        assertThat(browser.process().isAlive()).isFalse();
        assertThat(browser.tasksRun()).isGreaterThan(299_000);
        assertThat(kernel.panicked()).isFalse();
    }

    @Test
    void anInspectorThatLeavesItsOidRegisteredPanicsAtUnload(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LeakyPortInspectorKext.class);

        assertThatPanics(() -> kernel.kextunload(kext))
                .panicStringContains("org.chromium.kext.port-inspector")
                .panicStringContains("1 finding at unload");
        assertThat(kernel.leakReport(kext).findings()).singleElement()
                .extracting(Finding::kind).isEqualTo(Finding.Kind.LINGERING_REGISTRATION);
    }

    @Test
    void theCatalogsTwinRunShowsTheFixedBrowserHolding(Kernel kernel) {
        Sample sample = SampleCatalog.find("ports").orElseThrow();
        LoadedKext twin = kernel.kextload(sample.twin());

        sample.exercise().run(kernel, twin);

        assertThat(kernel.log().text()).contains("(fixed build) ran " + PortLeakStory.TASKS + " tasks: 3 -> 3 port names")
                .contains("port_tracer: Chromium [")
                .contains("(2 send, 1 receive, 0 dead names)")
                .contains("fixed: Chromium [")
                .doesNotContain("LEAK");
        kernel.kextunload(twin);
        assertThat(kernel).hasNoLeaks();
    }

    @Test
    void theCatalogsKextRunShowsTheLeakAndNamesItsCause() {
        Sample sample = SampleCatalog.find("ports").orElseThrow();
        try (Kernel kernel = Kernel.boot()) {
            LoadedKext kext = kernel.kextload(sample.kext());

            sample.exercise().run(kernel, kext);

            assertThat(kernel.log().text())
                    .contains("(leaking build) ran " + PortLeakStory.TASKS + " tasks: 3 -> 503 port names")
                    .contains("(2 send, 1 receive, 500 dead names)")
                    .contains("LEAK: Chromium [")
                    .contains("gained 500 port names in 500 tasks, 500 of them dead names")
                    .contains("mach_thread_self()").contains("mach_task_self()").contains("mach_port_deallocate");
        }
        assertThat(sample.rule()).contains("mach_thread_self()").contains("mach_task_self()")
                .contains("sysctl OID");
    }

    @Test
    void portTracerAndThePortCensusAgreeWhicheverCountsFirst() {
        PortTracer.Report tracedFirst;
        PortCensus.Row countedAfter;
        try (Kernel kernel = Kernel.boot()) {
            kernel.kextload(PortInspectorKext.class);
            ChromiumBrowser browser = ChromiumBrowser.launch(kernel, false);
            browser.runTasks(40);
            tracedFirst = PortTracer.open(browser.helper()).trace(browser.pid(), PortTracer.names(kernel));
            countedAfter = kernel.portCensus().of(browser.pid()).orElseThrow();
        }
        PortTracer.Report tracedAfter;
        PortCensus.Row countedFirst;
        try (Kernel kernel = Kernel.boot()) {
            kernel.kextload(PortInspectorKext.class);
            ChromiumBrowser browser = ChromiumBrowser.launch(kernel, false);
            browser.runTasks(40);
            countedFirst = kernel.portCensus().of(browser.pid()).orElseThrow();
            tracedAfter = PortTracer.open(browser.helper()).trace(browser.pid(), PortTracer.names(kernel));
        }

        assertThat(tracedAfter).isEqualTo(tracedFirst);
        assertThat(countedAfter).isEqualTo(countedFirst);
        assertThat(tracedFirst.deadNames()).isEqualTo(countedFirst.deadNames()).isEqualTo(40);
        assertThat(tracedFirst.send()).isEqualTo(countedFirst.send());
        assertThat(tracedFirst.receive()).isEqualTo(countedFirst.receive());
        assertThat(tracedFirst.names()).isEqualTo(countedFirst.names());
    }

    @Test
    void portTracerNeedsTheKext(Kernel kernel) {
        UserProcess p = UserProcess.spawn(kernel, "port_tracer");

        assertThatThrownBy(() -> PortTracer.open(p)).hasMessageContaining("load the port-inspector kext");
    }
}
