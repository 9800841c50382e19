package dev.kextharness.kernel.ipc;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.user.ProcessCrash;
import dev.kextharness.kernel.user.UserProcess;
import org.junit.jupiter.api.Test;

import static dev.kextharness.kpi.KernReturn.KERN_NO_SPACE;
import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_DEAD_NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The per-space table: ipc_table_entries' sizes, its maximum, KERN_NO_SPACE and CoreFoundation's halt. */
class PortSpaceExhaustionTest {

    @Test
    void tableSizesFollowIpcTableEntries() {
        assertThat(IpcSpace.TABLE_SIZES).startsWith(21, 42, 85, 170, 341, 512, 682, 853, 1024);
        assertThat(IpcSpace.TABLE_SIZES).hasSize(255);
        assertThat(IpcSpace.MAX_ENTRIES).isEqualTo(299_349);
    }

    @Test
    void theTableGrowsThroughTheSizesAsNamesAreTaken() {
        Kernel kernel = Kernel.boot();
        UserProcess proc = UserProcess.spawn(kernel, "grower");
        assertThat(proc.task().space().tableSize()).isEqualTo(21);
        int[] name = new int[1];
        for (int i = 0; i < 20; i++) { // entry 0 is never used, the task port takes 1
            proc.mach_port_allocate(proc.mach_task_self(), MACH_PORT_RIGHT_DEAD_NAME, name);
        }
        assertThat(proc.task().space().tableSize()).isEqualTo(42);
        assertThat(name[0]).isEqualTo(0x1503);
    }

    @Test
    void aFullSpaceIsKernNoSpaceAndCoreFoundationHalts() {
        Kernel kernel = Kernel.boot();
        UserProcess proc = UserProcess.spawn(kernel, "Chromium");
        int self = proc.mach_task_self();
        int[] name = new int[1];
        int rc;
        int taken = 1;
        while ((rc = proc.mach_port_allocate(self, MACH_PORT_RIGHT_DEAD_NAME, name)) == KERN_SUCCESS) {
            taken++;
        }
        assertThat(rc).isEqualTo(KERN_NO_SPACE);
        assertThat(taken).isEqualTo(IpcSpace.MAX_ENTRIES - 1); // every entry but entry 0

        assertThatThrownBy(proc::__CFPortAllocate)
                .isInstanceOfSatisfying(ProcessCrash.class, crash -> {
                    assertThat(crash.report().frames().get(0)).endsWith("__THE_SYSTEM_HAS_NO_PORTS_AVAILABLE__");
                    assertThat(crash.report().applicationSpecificInformation()).isEqualTo(
                            "*** The system has no mach ports available. You may be able to diagnose which "
                                    + "application(s) are using ports by using 'top' or Activity Monitor. (3) ***");
                    assertThat(crash.report().render()).contains("Exception Type:        EXC_BREAKPOINT (SIGTRAP)");
                });
        assertThat(proc.isAlive()).isFalse();
        assertThat(kernel.portCensus().portCountOf(proc.pid())).isEqualTo(-1);
        assertThat(kernel.panicked()).isFalse();
    }
}
