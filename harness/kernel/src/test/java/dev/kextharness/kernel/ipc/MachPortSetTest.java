package dev.kextharness.kernel.ipc;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.user.UserProcess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.kextharness.kpi.KernReturn.KERN_INVALID_NAME;
import static dev.kextharness.kpi.KernReturn.KERN_INVALID_RIGHT;
import static dev.kextharness.kpi.KernReturn.KERN_NOT_IN_SET;
import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MAKE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MOVE_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_DEAD;
import static dev.kextharness.kpi.MachPort.MACH_PORT_NULL;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_PORT_SET;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_RECEIVE;
import static org.assertj.core.api.Assertions.assertThat;

/** Port-set membership with xnu's {@code mach_port_move_member} and {@code mach_port_get_set_status}. */
class MachPortSetTest {
    private Kernel kernel;
    private UserProcess proc;
    private int self;

    @BeforeEach
    void boot() {
        kernel = Kernel.boot();
        proc = UserProcess.spawn(kernel, "test");
        self = proc.mach_task_self();
    }

    private int allocate(int right) {
        int[] name = new int[1];
        assertThat(proc.mach_port_allocate(self, right, name)).isEqualTo(KERN_SUCCESS);
        return name[0];
    }

    private int[] members(int set) {
        int[][] members = new int[1][];
        int[] count = new int[1];
        assertThat(proc.mach_port_get_set_status(self, set, members, count)).isEqualTo(KERN_SUCCESS);
        assertThat(count[0]).isEqualTo(members[0].length);
        return members[0];
    }

    private IpcPort port(int name) {
        return (IpcPort) kernel.ipc().objectOf(proc.task().space(), name);
    }

    @Test
    void moveMemberPutsReceiveRightsInASetListedInAscendingNameOrder() {
        int set = allocate(MACH_PORT_RIGHT_PORT_SET);
        int first = allocate(MACH_PORT_RIGHT_RECEIVE);
        int second = allocate(MACH_PORT_RIGHT_RECEIVE);
        assertThat(members(set)).isEmpty();

        assertThat(proc.mach_port_move_member(self, second, set)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_move_member(self, first, set)).isEqualTo(KERN_SUCCESS);

        assertThat(members(set)).containsExactly(first, second);
        assertThat(port(first).portSet()).isSameAs(kernel.ipc().objectOf(proc.task().space(), set));
    }

    @Test
    void aPortIsInAtMostOneSetAndMovingItToAnotherTakesItOutOfTheFirst() {
        int a = allocate(MACH_PORT_RIGHT_PORT_SET);
        int b = allocate(MACH_PORT_RIGHT_PORT_SET);
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        assertThat(proc.mach_port_move_member(self, port, a)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_move_member(self, port, a)).isEqualTo(KERN_SUCCESS); // again: still once
        assertThat(members(a)).containsExactly(port);

        assertThat(proc.mach_port_move_member(self, port, b)).isEqualTo(KERN_SUCCESS);

        assertThat(members(a)).isEmpty();
        assertThat(members(b)).containsExactly(port);
    }

    @Test
    void moveMemberToNullTakesThePortOutAndAPortInNoSetIsNotInSet() {
        int set = allocate(MACH_PORT_RIGHT_PORT_SET);
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        assertThat(proc.mach_port_move_member(self, port, MACH_PORT_NULL)).isEqualTo(KERN_NOT_IN_SET);
        proc.mach_port_move_member(self, port, set);

        assertThat(proc.mach_port_move_member(self, port, MACH_PORT_NULL)).isEqualTo(KERN_SUCCESS);

        assertThat(members(set)).isEmpty();
        assertThat(port(port).portSet()).isNull();
        assertThat(proc.mach_port_move_member(self, port, MACH_PORT_NULL)).isEqualTo(KERN_NOT_IN_SET);
    }

    @Test
    void aMemberThatIsNotAReceiveRightIsInvalidRight() {
        int set = allocate(MACH_PORT_RIGHT_PORT_SET);
        int otherSet = allocate(MACH_PORT_RIGHT_PORT_SET);
        int deadName = allocate(MACH_PORT_RIGHT_DEAD_NAME);

        assertThat(proc.mach_port_move_member(self, MACH_PORT_NULL, set)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_move_member(self, MACH_PORT_DEAD, set)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_move_member(self, self, set)).isEqualTo(KERN_INVALID_RIGHT); // send right only
        assertThat(proc.mach_port_move_member(self, deadName, set)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_move_member(self, otherSet, set)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_move_member(self, self, MACH_PORT_NULL)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(members(set)).isEmpty();
    }

    @Test
    void anUnknownMemberOrSetNameIsInvalidNameEvenWhenTheOtherNameHasTheWrongRight() {
        int set = allocate(MACH_PORT_RIGHT_PORT_SET);
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        int stale = allocate(MACH_PORT_RIGHT_RECEIVE);
        proc.mach_port_mod_refs(self, stale, MACH_PORT_RIGHT_RECEIVE, -1);

        assertThat(proc.mach_port_move_member(self, stale, set)).isEqualTo(KERN_INVALID_NAME);
        assertThat(proc.mach_port_move_member(self, stale, MACH_PORT_NULL)).isEqualTo(KERN_INVALID_NAME);
        assertThat(proc.mach_port_move_member(self, port, stale)).isEqualTo(KERN_INVALID_NAME);
        // both names are looked up before either right is checked (ipc_object_translate_two)
        assertThat(proc.mach_port_move_member(self, self, stale)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void anAfterThatIsNotAPortSetIsInvalidRight() {
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        int other = allocate(MACH_PORT_RIGHT_RECEIVE);

        assertThat(proc.mach_port_move_member(self, port, MACH_PORT_DEAD)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_move_member(self, port, other)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_move_member(self, port, self)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(port(port).portSet()).isNull();
    }

    @Test
    void getSetStatusNeedsAPortSetName() {
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        int stale = allocate(MACH_PORT_RIGHT_PORT_SET);
        proc.mach_port_deallocate(self, stale);
        int[][] members = new int[1][];
        int[] count = new int[1];

        assertThat(proc.mach_port_get_set_status(self, MACH_PORT_NULL, members, count)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_get_set_status(self, MACH_PORT_DEAD, members, count)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_get_set_status(self, stale, members, count)).isEqualTo(KERN_INVALID_NAME);
        assertThat(proc.mach_port_get_set_status(self, port, members, count)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_get_set_status(self, self, members, count)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(members[0]).isNull();
    }

    @Test
    void destroyingAReceiveRightTakesItsPortOutOfTheSet() {
        int set = allocate(MACH_PORT_RIGHT_PORT_SET);
        int receiveOnly = allocate(MACH_PORT_RIGHT_RECEIVE);
        int withSend = allocate(MACH_PORT_RIGHT_RECEIVE);
        int kept = allocate(MACH_PORT_RIGHT_RECEIVE);
        kernel.ipc().transfer(proc.task().space(), withSend, MACH_MSG_TYPE_MAKE_SEND, proc.task().space());
        for (int p : new int[]{receiveOnly, withSend, kept}) {
            proc.mach_port_move_member(self, p, set);
        }
        IpcPort withSendPort = port(withSend);

        assertThat(proc.mach_port_mod_refs(self, receiveOnly, MACH_PORT_RIGHT_RECEIVE, -1)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_mod_refs(self, withSend, MACH_PORT_RIGHT_RECEIVE, -1)).isEqualTo(KERN_SUCCESS);

        assertThat(members(set)).containsExactly(kept);
        assertThat(withSendPort.portSet()).isNull();
    }

    @Test
    void destroyingTheSetReleasesItsMembers() {
        int set = allocate(MACH_PORT_RIGHT_PORT_SET);
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        proc.mach_port_move_member(self, port, set);

        assertThat(proc.mach_port_deallocate(self, set)).isEqualTo(KERN_SUCCESS);

        assertThat(port(port).portSet()).isNull();
        assertThat(proc.mach_port_move_member(self, port, MACH_PORT_NULL)).isEqualTo(KERN_NOT_IN_SET);
        assertThat(proc.mach_port_move_member(self, port, set)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void aReceiveRightMovedToAnotherTaskLeavesItsSet() {
        int set = allocate(MACH_PORT_RIGHT_PORT_SET);
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        proc.mach_port_move_member(self, port, set);
        UserProcess other = UserProcess.spawn(kernel, "other");
        IpcPort moved = port(port);

        int there = kernel.ipc().transfer(proc.task().space(), port, MACH_MSG_TYPE_MOVE_RECEIVE, other.task().space());

        assertThat(there).isNotZero();
        assertThat(members(set)).isEmpty();
        assertThat(moved.portSet()).isNull();
        assertThat(other.mach_port_move_member(other.mach_task_self(), there, MACH_PORT_NULL)).isEqualTo(KERN_NOT_IN_SET);
    }
}
