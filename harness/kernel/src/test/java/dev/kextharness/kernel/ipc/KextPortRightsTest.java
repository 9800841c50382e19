package dev.kextharness.kernel.ipc;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.ipc.fixtures.PortHoldingKext;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.panic.KernelPanic;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Port rights a kext's code holds at unload are judged like leaked memory. */
class KextPortRightsTest {

    @Test
    void rightsHeldAtUnloadAreReportedWithSiteRightAndUrefs() {
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.FAIL));
        LoadedKext kext = kernel.kextload(PortHoldingKext.class, LoadOptions.defaults().withData(1));

        KextLeakError error = (KextLeakError) catchLeak(() -> kernel.kextunload(kext));
        LeakReport report = error.report();

        assertThat(report.hasLeaks()).isFalse();
        assertThat(report.heldRights()).hasSize(2);
        assertThat(report.heldRights().get(0).right()).isEqualTo("receive");
        assertThat(report.heldRights().get(0).site().function()).isEqualTo("mach_port_allocate");
        assertThat(report.heldRights().get(1).right()).isEqualTo("send");
        assertThat(report.heldRights().get(1).urefs()).isEqualTo(1);
        assertThat(report.heldRights().get(1).site().function()).isEqualTo("mach_port_allocate");
        assertThat(report.headline())
                .isEqualTo("KEXT LEAK: com.example.port-holder: 2 port rights (2 user references) held at unload");
        assertThat(report.render())
                .contains("receive right, 1 uref, name 0x")
                .contains("in kernel_task [0], by mach_port_allocate")
                .contains("at PortHoldingKext.start(PortHoldingKext.java:");
        assertThat(report.toJson()).contains("\"portRights\"").contains("\"right\" : \"send\"").contains("\"urefs\" : 1");
    }

    @Test
    void underThePanicPolicyHeldRightsPanicNamingTheSite() {
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.PANIC));
        LoadedKext kext = kernel.kextload(PortHoldingKext.class, LoadOptions.defaults().withData(1));

        assertThatThrownBy(() -> kernel.kextunload(kext)).isInstanceOfSatisfying(KernelPanic.class, p ->
                assertThat(p.panicString()).contains("2 port rights (2 user references) held at unload"));
    }

    @Test
    void aKextThatReleasesItsRightsUnloadsClean() {
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.FAIL));
        LoadedKext kext = kernel.kextload(PortHoldingKext.class);

        kernel.kextunload(kext);

        assertThat(kernel.leakReport(kext).isClean()).isTrue();
    }

    private static Throwable catchLeak(Runnable r) {
        try {
            r.run();
        } catch (KextLeakError e) {
            return e;
        }
        throw new AssertionError("the unload should have failed with a KextLeakError");
    }
}
