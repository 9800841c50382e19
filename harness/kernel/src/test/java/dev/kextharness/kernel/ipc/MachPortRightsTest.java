package dev.kextharness.kernel.ipc;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.user.UserProcess;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static dev.kextharness.kpi.KernReturn.KERN_INVALID_NAME;
import static dev.kextharness.kpi.KernReturn.KERN_INVALID_RIGHT;
import static dev.kextharness.kpi.KernReturn.KERN_INVALID_VALUE;
import static dev.kextharness.kpi.KernReturn.KERN_NAME_EXISTS;
import static dev.kextharness.kpi.KernReturn.KERN_RIGHT_EXISTS;
import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_COPY_SEND;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MAKE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MAKE_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MOVE_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MOVE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_PORT_SET;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND_RECEIVE;
import static org.assertj.core.api.Assertions.assertThat;

/** Port rights, names and user references with xnu-6153's rules, through a user process's calls. */
class MachPortRightsTest {
    private Kernel kernel;
    private UserProcess proc;
    private int self;

    @BeforeEach
    void boot() {
        kernel = Kernel.boot();
        proc = UserProcess.spawn(kernel, "test");
        self = proc.mach_task_self();
    }

    private int refs(int name, int right) {
        int[] refs = new int[1];
        assertThat(proc.mach_port_get_refs(self, name, right, refs)).isEqualTo(KERN_SUCCESS);
        return refs[0];
    }

    private int allocate(int right) {
        int[] name = new int[1];
        assertThat(proc.mach_port_allocate(self, right, name)).isEqualTo(KERN_SUCCESS);
        return name[0];
    }

    @Test
    void namesAreIndexShiftedEightWithGenerationInTheLowByte() {
        assertThat(self).isEqualTo(0x103); // the first entry (1), first generation (0x03)
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        assertThat(port).isEqualTo(0x203);

        assertThat(proc.mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, -1)).isEqualTo(KERN_SUCCESS);
        int again = allocate(MACH_PORT_RIGHT_RECEIVE);

        assertThat(again).isEqualTo(0x207); // the freed entry is reused first, one generation on
        assertThat(proc.mach_port_deallocate(self, port)).isEqualTo(KERN_INVALID_NAME); // the old name is stale
    }

    @Test
    void machTaskSelfIsCachedButTheTrapAddsAReference() {
        assertThat(refs(self, MACH_PORT_RIGHT_SEND)).isEqualTo(1);
        for (int i = 0; i < 5; i++) {
            assertThat(proc.mach_task_self()).isEqualTo(self);
        }
        assertThat(refs(self, MACH_PORT_RIGHT_SEND)).isEqualTo(1);

        assertThat(proc.task_self_trap()).isEqualTo(self);
        assertThat(refs(self, MACH_PORT_RIGHT_SEND)).isEqualTo(2);
    }

    @Test
    void machThreadSelfAddsOneSendReferencePerCallUnderOneName() {
        int first = proc.mach_thread_self();
        int second = proc.mach_thread_self();
        proc.mach_thread_self();

        assertThat(second).isEqualTo(first);
        assertThat(refs(first, MACH_PORT_RIGHT_SEND)).isEqualTo(3);
        assertThat(proc.mach_port_deallocate(self, first)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_deallocate(self, first)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_deallocate(self, first)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_deallocate(self, first)).isEqualTo(KERN_INVALID_NAME); // the name is free again
    }

    @Test
    void urefsPegAt65535AndOnlyMinus65535ReleasesThem() {
        int thread = proc.mach_thread_self();
        assertThat(proc.mach_port_mod_refs(self, thread, MACH_PORT_RIGHT_SEND, 65534)).isEqualTo(KERN_SUCCESS);
        assertThat(refs(thread, MACH_PORT_RIGHT_SEND)).isEqualTo(65535);

        assertThat(proc.mach_thread_self()).isEqualTo(thread); // overflow no longer fails
        assertThat(refs(thread, MACH_PORT_RIGHT_SEND)).isEqualTo(65535);
        assertThat(proc.mach_port_deallocate(self, thread)).isEqualTo(KERN_SUCCESS);
        assertThat(refs(thread, MACH_PORT_RIGHT_SEND)).isEqualTo(65535); // pegged stays pegged
        assertThat(proc.mach_port_mod_refs(self, thread, MACH_PORT_RIGHT_SEND, -1)).isEqualTo(KERN_SUCCESS);
        assertThat(refs(thread, MACH_PORT_RIGHT_SEND)).isEqualTo(65535);

        assertThat(proc.mach_port_mod_refs(self, thread, MACH_PORT_RIGHT_SEND, -65535)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_deallocate(self, thread)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void urefsOverflowBelowThePegIsClampedAndOutOfRangeDeltasAreInvalid() {
        int thread = proc.mach_thread_self();
        assertThat(proc.mach_port_mod_refs(self, thread, MACH_PORT_RIGHT_SEND, 65535)).isEqualTo(KERN_SUCCESS);
        assertThat(refs(thread, MACH_PORT_RIGHT_SEND)).isEqualTo(65535);

        int dead = allocate(MACH_PORT_RIGHT_DEAD_NAME);
        assertThat(proc.mach_port_mod_refs(self, dead, MACH_PORT_RIGHT_DEAD_NAME, 65536)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.mach_port_mod_refs(self, dead, MACH_PORT_RIGHT_DEAD_NAME, -2)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.task().guardExceptions()).hasSize(2).allMatch(g -> g.contains("kGUARD_EXC_INVALID_VALUE"));
        assertThat(proc.mach_port_mod_refs(self, dead, MACH_PORT_RIGHT_DEAD_NAME, -1)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_deallocate(self, dead)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void allocateTakesOnlyReceivePortSetAndDeadName() {
        int[] name = new int[1];
        assertThat(proc.mach_port_allocate(self, MACH_PORT_RIGHT_SEND, name)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.mach_port_allocate(self, MACH_PORT_RIGHT_SEND_ONCE, name)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.mach_port_allocate(self, 6, name)).isEqualTo(KERN_INVALID_VALUE);

        int pset = allocate(MACH_PORT_RIGHT_PORT_SET);
        assertThat(proc.mach_port_deallocate(self, pset)).isEqualTo(KERN_SUCCESS); // destroys the set
        assertThat(proc.mach_port_deallocate(self, pset)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void receiveRightsHaveNoUrefsAndCannotBeDeallocated() {
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);

        assertThat(proc.mach_port_deallocate(self, port)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.task().guardExceptions()).singleElement().asString().contains("kGUARD_EXC_INVALID_RIGHT");
        assertThat(proc.mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, 1)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.mach_port_mod_refs(self, port, MACH_PORT_RIGHT_SEND, 1)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(proc.mach_port_mod_refs(self, port, MACH_PORT_RIGHT_RECEIVE, 0)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_mod_refs(self, port, 7, 0)).isEqualTo(KERN_INVALID_VALUE);
    }

    @Test
    void makeSendOnTheReceiveNameGivesOneNameWithBothRights() {
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);

        assertThat(proc.mach_port_insert_right(self, port, port, MACH_MSG_TYPE_MAKE_SEND)).isEqualTo(KERN_SUCCESS);

        int[][] names = new int[1][];
        int[][] types = new int[1][];
        int[] n = new int[1];
        int[] t = new int[1];
        assertThat(proc.mach_port_names(self, names, n, types, t)).isEqualTo(KERN_SUCCESS);
        assertThat(names[0]).containsExactly(self, port);
        assertThat(types[0]).containsExactly(MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_RECEIVE);
        assertThat(refs(port, MACH_PORT_RIGHT_SEND)).isEqualTo(1);
    }

    @Test
    void insertRightRefusesATakenNameAndASecondNameForThePort() {
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        int other = allocate(MACH_PORT_RIGHT_RECEIVE);

        assertThat(proc.mach_port_insert_right(self, other, port, MACH_MSG_TYPE_MAKE_SEND)).isEqualTo(KERN_NAME_EXISTS);
        assertThat(proc.mach_port_insert_right(self, 0x1003, port, MACH_MSG_TYPE_MAKE_SEND)).isEqualTo(KERN_RIGHT_EXISTS);
        assertThat(proc.mach_port_insert_right(self, 0, port, MACH_MSG_TYPE_MAKE_SEND)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.mach_port_insert_right(self, port, port, 99)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.mach_port_insert_right(self, port, 0x7707, MACH_MSG_TYPE_COPY_SEND))
                .isEqualTo(Ipc.MACH_SEND_INVALID_RIGHT);
    }

    @Test
    void aRightSentInAMessageCrossesTasksAndSharesTheMessageQueue() {
        UserProcess server = UserProcess.spawn(kernel, "server");
        int serverSelf = server.mach_task_self();
        int[] service = new int[1];
        server.mach_port_allocate(serverSelf, MACH_PORT_RIGHT_RECEIVE, service);
        int clientReply = allocate(MACH_PORT_RIGHT_RECEIVE);
        // the client learns the service: the server's send right arrives in a message on the client's port
        Task serverTask = server.task();
        int given = kernel.ipc().transfer(serverTask.space(), service[0], MACH_MSG_TYPE_MAKE_SEND, proc.task().space());

        assertThat(proc.mach_msg_send(given, MACH_MSG_TYPE_COPY_SEND, 1234, new int[]{clientReply},
                new int[]{MACH_MSG_TYPE_MAKE_SEND})).isEqualTo(Ipc.MACH_MSG_SUCCESS);
        Ipc.Received[] msg = new Ipc.Received[1];
        assertThat(server.mach_msg_receive(service[0], msg)).isEqualTo(Ipc.MACH_MSG_SUCCESS);

        assertThat(msg[0].id()).isEqualTo(1234);
        assertThat(msg[0].sender()).isEqualTo(proc.pid());
        int replyInServer = msg[0].names()[0];
        IpcPort inClient = (IpcPort) kernel.ipc().objectOf(proc.task().space(), clientReply);
        IpcPort inServer = (IpcPort) kernel.ipc().objectOf(serverTask.space(), replyInServer);
        assertThat(inServer).isSameAs(inClient);
        assertThat(inServer.mqueue()).isEqualTo(inClient.address() + IpcPort.MQUEUE_OFFSET);
        assertThat(server.mach_msg_receive(service[0], msg)).isEqualTo(Ipc.MACH_RCV_TIMED_OUT);
        assertThat(server.mach_msg_send(replyInServer, MACH_MSG_TYPE_MOVE_SEND, 1, new int[0], new int[0]))
                .isEqualTo(Ipc.MACH_MSG_SUCCESS);
        assertThat(proc.mach_msg_receive(clientReply, msg)).isEqualTo(Ipc.MACH_MSG_SUCCESS);
        assertThat(server.mach_port_deallocate(serverSelf, replyInServer)).isEqualTo(KERN_INVALID_NAME); // moved away
    }

    @Test
    void aSendRightBecomesADeadNameWhenItsReceiverDiesKeepingItsUrefs() {
        UserProcess server = UserProcess.spawn(kernel, "server");
        int[] service = new int[1];
        server.mach_port_allocate(server.mach_task_self(), MACH_PORT_RIGHT_RECEIVE, service);
        int send = kernel.ipc().transfer(server.task().space(), service[0], MACH_MSG_TYPE_MAKE_SEND, proc.task().space());
        kernel.ipc().transfer(server.task().space(), service[0], MACH_MSG_TYPE_MAKE_SEND, proc.task().space());
        assertThat(refs(send, MACH_PORT_RIGHT_SEND)).isEqualTo(2);

        server.exit();

        int[][] names = new int[1][];
        int[][] types = new int[1][];
        proc.mach_port_names(self, names, new int[1], types, new int[1]);
        assertThat(types[0][1]).isEqualTo(MACH_PORT_TYPE_DEAD_NAME);
        assertThat(refs(send, MACH_PORT_RIGHT_DEAD_NAME)).isEqualTo(2);
        assertThat(proc.mach_port_mod_refs(self, send, MACH_PORT_RIGHT_SEND, -1)).isEqualTo(KERN_INVALID_RIGHT);
    }

    @Test
    void countingAndListingReportADeadSendRightWithoutRewritingItsEntry() {
        UserProcess server = UserProcess.spawn(kernel, "server");
        int[] service = new int[1];
        server.mach_port_allocate(server.mach_task_self(), MACH_PORT_RIGHT_RECEIVE, service);
        int send = kernel.ipc().transfer(server.task().space(), service[0], MACH_MSG_TYPE_MAKE_SEND, proc.task().space());
        server.exit();
        IpcSpace space = proc.task().space();
        int rawBefore = kernel.ipc().entryBits(space, send >>> 8);

        PortCensus.Row row = kernel.portCensus().of(proc.pid()).orElseThrow();
        int[][] names = new int[1][];
        int[][] types = new int[1][];
        proc.mach_port_names(self, names, new int[1], types, new int[1]);

        assertThat(row.deadNames()).isEqualTo(1);
        assertThat(row.send()).isEqualTo(1); // the task's own send right only
        assertThat(types[0][1]).isEqualTo(MACH_PORT_TYPE_DEAD_NAME);
        assertThat(kernel.ipc().bitsOf(space, send) & MACH_PORT_TYPE_DEAD_NAME).isNotZero();
        assertThat(kernel.ipc().entryBits(space, send >>> 8)).as("the entry as the kernel holds it")
                .isEqualTo(rawBefore).matches(bits -> (bits & MACH_PORT_TYPE_SEND) != 0);
        assertThat(kernel.portCensus().of(proc.pid())).as("a second count sees the same").contains(row);
    }

    @Test
    void aSendOnceRightHasOneUrefAlwaysAndANameOfItsOwn() {
        UserProcess server = UserProcess.spawn(kernel, "server");
        int[] service = new int[1];
        server.mach_port_allocate(server.mach_task_self(), MACH_PORT_RIGHT_RECEIVE, service);
        IpcSpace from = server.task().space();
        int once = kernel.ipc().transfer(from, service[0], MACH_MSG_TYPE_MAKE_SEND_ONCE, proc.task().space());
        int twice = kernel.ipc().transfer(from, service[0], MACH_MSG_TYPE_MAKE_SEND_ONCE, proc.task().space());

        assertThat(twice).as("send-once rights never share a name").isNotEqualTo(once);
        assertThat(refs(once, MACH_PORT_RIGHT_SEND_ONCE)).isEqualTo(1);
        assertThat(proc.mach_port_mod_refs(self, once, MACH_PORT_RIGHT_SEND_ONCE, 1)).isEqualTo(KERN_INVALID_VALUE);
        assertThat(proc.mach_port_mod_refs(self, once, MACH_PORT_RIGHT_SEND, 1)).isEqualTo(KERN_INVALID_RIGHT);
        assertThat(refs(once, MACH_PORT_RIGHT_SEND_ONCE)).isEqualTo(1);
        assertThat(refs(once, MACH_PORT_RIGHT_SEND)).isZero();
        int[][] names = new int[1][];
        int[][] types = new int[1][];
        proc.mach_port_names(self, names, new int[1], types, new int[1]);
        assertThat(types[0]).containsExactly(MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_SEND_ONCE, MACH_PORT_TYPE_SEND_ONCE);
        assertThat(kernel.portCensus().of(proc.pid()).orElseThrow().sendOnce()).isEqualTo(2);
    }

    @Test
    void deallocatingASendOnceRightFreesItsName() {
        UserProcess server = UserProcess.spawn(kernel, "server");
        int[] service = new int[1];
        server.mach_port_allocate(server.mach_task_self(), MACH_PORT_RIGHT_RECEIVE, service);
        int once = kernel.ipc().transfer(server.task().space(), service[0], MACH_MSG_TYPE_MAKE_SEND_ONCE,
                proc.task().space());
        int before = kernel.portCensus().portCountOf(proc.pid());

        assertThat(proc.mach_port_deallocate(self, once)).isEqualTo(KERN_SUCCESS);

        assertThat(kernel.portCensus().portCountOf(proc.pid())).isEqualTo(before - 1);
        assertThat(proc.mach_port_deallocate(self, once)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void sendingOnASendOnceRightUsesItUp() {
        UserProcess server = UserProcess.spawn(kernel, "server");
        int[] service = new int[1];
        server.mach_port_allocate(server.mach_task_self(), MACH_PORT_RIGHT_RECEIVE, service);
        int once = kernel.ipc().transfer(server.task().space(), service[0], MACH_MSG_TYPE_MAKE_SEND_ONCE,
                proc.task().space());

        assertThat(proc.mach_msg_send(once, MACH_MSG_TYPE_COPY_SEND, 1, new int[0], new int[0]))
                .as("a send-once right cannot be copied").isEqualTo(Ipc.MACH_SEND_INVALID_DEST);
        assertThat(proc.mach_msg_send(once, MACH_MSG_TYPE_MOVE_SEND_ONCE, 7, new int[0], new int[0]))
                .isEqualTo(Ipc.MACH_MSG_SUCCESS);

        Ipc.Received[] msg = new Ipc.Received[1];
        assertThat(server.mach_msg_receive(service[0], msg)).isEqualTo(Ipc.MACH_MSG_SUCCESS);
        assertThat(msg[0].id()).isEqualTo(7);
        assertThat(proc.mach_msg_send(once, MACH_MSG_TYPE_MOVE_SEND_ONCE, 8, new int[0], new int[0]))
                .isEqualTo(Ipc.MACH_SEND_INVALID_DEST);
        assertThat(proc.mach_port_deallocate(self, once)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void aSendOnceRightWhosePortDiedIsADeadNameWithOneUref() {
        UserProcess server = UserProcess.spawn(kernel, "server");
        int[] service = new int[1];
        server.mach_port_allocate(server.mach_task_self(), MACH_PORT_RIGHT_RECEIVE, service);
        int once = kernel.ipc().transfer(server.task().space(), service[0], MACH_MSG_TYPE_MAKE_SEND_ONCE,
                proc.task().space());

        server.exit();

        assertThat(refs(once, MACH_PORT_RIGHT_DEAD_NAME)).isEqualTo(1);
        assertThat(refs(once, MACH_PORT_RIGHT_SEND_ONCE)).isZero();
        assertThat(proc.mach_port_deallocate(self, once)).isEqualTo(KERN_SUCCESS);
        assertThat(proc.mach_port_deallocate(self, once)).isEqualTo(KERN_INVALID_NAME);
    }

    @Test
    void aThreadsNameOutlivesTheThreadAsADeadNameUntilDeallocated() {
        var worker = proc.pthread_create();
        int[] name = new int[1];
        proc.runOn(worker, () -> name[0] = proc.mach_thread_self());
        int before = kernel.portCensus().portCountOf(proc.pid());

        proc.pthread_exit(worker);

        assertThat(kernel.portCensus().portCountOf(proc.pid())).isEqualTo(before);
        assertThat(kernel.portCensus().of(proc.pid()).orElseThrow().deadNames()).isEqualTo(1);
        assertThat(proc.mach_port_deallocate(self, name[0])).isEqualTo(KERN_SUCCESS);
        assertThat(kernel.portCensus().portCountOf(proc.pid())).isEqualTo(before - 1);
    }

    @Test
    void deadThreadPortsAreFreedOnceTheirNamesGo() {
        long live = kernel.ipc().livePorts();
        var worker = proc.pthread_create();
        int[] name = new int[1];
        proc.runOn(worker, () -> name[0] = proc.mach_thread_self());
        proc.pthread_exit(worker);
        assertThat(kernel.ipc().livePorts()).isEqualTo(live + 1); // the dead name still holds it

        assertThat(proc.mach_port_deallocate(self, name[0])).isEqualTo(KERN_SUCCESS);

        assertThat(kernel.ipc().livePorts()).isEqualTo(live);
    }

    @Test
    void typesOfAFreshProcessAreItsTaskSendRight() {
        int port = allocate(MACH_PORT_RIGHT_RECEIVE);
        int[][] names = new int[1][];
        int[][] types = new int[1][];
        int[] cnt = new int[1];
        proc.mach_port_names(self, names, cnt, types, new int[1]);
        assertThat(cnt[0]).isEqualTo(2);
        assertThat(types[0]).containsExactly(MACH_PORT_TYPE_SEND, MACH_PORT_TYPE_RECEIVE);
        assertThat(names[0][1]).isEqualTo(port);
    }
}
