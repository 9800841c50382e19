package dev.kextharness.kernel.ipc;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static dev.kextharness.kpi.KernReturn.KERN_INVALID_NAME;
import static dev.kextharness.kpi.KernReturn.KERN_INVALID_RIGHT;
import static dev.kextharness.kpi.KernReturn.KERN_INVALID_TASK;
import static dev.kextharness.kpi.KernReturn.KERN_INVALID_VALUE;
import static dev.kextharness.kpi.KernReturn.KERN_NAME_EXISTS;
import static dev.kextharness.kpi.KernReturn.KERN_NOT_IN_SET;
import static dev.kextharness.kpi.KernReturn.KERN_NO_SPACE;
import static dev.kextharness.kpi.KernReturn.KERN_RIGHT_EXISTS;
import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_COPY_SEND;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MAKE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MAKE_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MOVE_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MOVE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MOVE_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_DEAD;
import static dev.kextharness.kpi.MachPort.MACH_PORT_NULL;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_NUMBER;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_PORT_SET;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_PORT_SET;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND_ONCE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_UREFS_MAX;
import static dev.kextharness.kpi.MachPort.MACH_PORT_VALID;

/**
 * Mach IPC for one kernel ({@code osfmk/ipc/*} and {@code osfmk/kern/ipc_tt.c} of xnu-6153):
 * tasks and threads with their ports, port rights in IPC spaces, and the {@code mach_port_*}
 * routines with XNU's return codes. Right semantics follow {@code ipc_right.c}: user references
 * of send rights and dead names peg at {@code MACH_PORT_UREFS_MAX} and then change only by
 * exactly {@code -MACH_PORT_UREFS_MAX}; receive rights and port sets have none; a send right whose
 * port died becomes a dead name, lazily, the next time its name is used; listing and counting
 * ({@link #names}, {@link #census}, {@link #bitsOf}) only report it as one, as {@code mach_port_names}
 * does, without rewriting the entry.
 *
 * <p>Ports, port sets, spaces, tasks, threads and procs have kernel addresses of their own, handed
 * out from a range set apart for them ({@link #IPC_OBJECTS_BASE}). In XNU they are zone elements
 * ({@code ipc ports}, ...); the harness keeps them out of the zone map so that booting processes
 * does not move the zone layout the memory lessons replay.
 *
 * <p>Many threads may call at once: each routine runs under the one IPC lock (XNU locks per space
 * and per port; one lock gives the same answers, with less parallelism on this slow path). The
 * current task ({@link #enter}) is one for the whole kernel, not one per thread: concurrent callers
 * that switch tasks see each other's.
 */
public final class Ipc {
    /** {@code <mach/message.h>}: send and receive return codes. */
    public static final int MACH_MSG_SUCCESS = 0;
    public static final int MACH_SEND_INVALID_DEST = 0x10000003;
    public static final int MACH_SEND_INVALID_RIGHT = 0x10000007;
    public static final int MACH_SEND_INVALID_HEADER = 0x10000010;
    public static final int MACH_RCV_INVALID_NAME = 0x10004002;
    public static final int MACH_RCV_TIMED_OUT = 0x10004003;

    /** Where IPC objects' addresses start: between the zone map and kalloc_map (harness layout). */
    public static final long IPC_OBJECTS_BASE = 0xffffff9080000000L;

    /** Object sizes: harness values (xnu-6153's struct sizes are not in the fact sheet). */
    static final int PORT_SIZE = 168;
    static final int PSET_SIZE = 96;
    static final int SPACE_SIZE = 72;
    static final int TASK_SIZE = 1360;
    static final int THREAD_SIZE = 2040;
    static final int PROC_SIZE = 1024;

    private long nextAddress = IPC_OBJECTS_BASE;
    private long livePorts;
    private final Map<Long, Object> byAddress = new HashMap<>();
    private final TreeMap<Integer, Task> tasks = new TreeMap<>();
    private final Task kernelTask;
    private final KextPortRights kextRights = new KextPortRights();
    /** What {@link #entryObject} answers for an index past the table. */
    public static final Object OUT_OF_TABLE = new Object();

    private Task current;
    private int nextPid = 600;
    private long nextThreadId = 0x1f0;

    public Ipc() {
        kernelTask = newTask(0, "kernel_task");
        current = kernelTask;
    }

    // ---------------------------------------------------------------------------------------------
    // Tasks and threads

    /** The task whose thread is in the kernel now: kernel_task, or the user process making a call. */
    public synchronized Task currentTask() {
        return current;
    }

    /** Makes {@code task} the current one and returns the previous, to restore after the call. */
    public synchronized Task enter(Task task) {
        Task previous = current;
        current = task;
        return previous;
    }

    /** {@code is_table[index].ie_object} as it is, not checked for death; {@link #OUT_OF_TABLE} past the table. */
    public synchronized Object entryObject(IpcSpace space, int index) {
        return index < 0 || index >= space.tableSize() ? OUT_OF_TABLE : space.objects[index];
    }

    /** {@code is_table[index].ie_bits} as it is. */
    public synchronized int entryBits(IpcSpace space, int index) {
        return space.bits[index];
    }

    /** The kernel's own task (pid 0). */
    public synchronized Task kernelTask() {
        return kernelTask;
    }

    /** Creates a task and its BSD process with a pid of its own and one thread, as fork/exec would. */
    public synchronized Task spawn(String name) {
        while (tasks.containsKey(nextPid)) {
            nextPid++;
        }
        return spawn(nextPid++, name);
    }

    /**
     * Creates a task with this pid, its main thread, and the send right libsystem caches as
     * {@code mach_task_self_} ({@code task_self_trap()} at initialisation).
     */
    public synchronized Task spawn(int pid, String name) {
        if (tasks.containsKey(pid)) {
            throw new IllegalArgumentException("pid " + pid + " is in use by " + tasks.get(pid));
        }
        Task task = newTask(pid, name);
        threadCreate(task);
        task.taskSelf = taskSelfTrap(task);
        return task;
    }

    private Task newTask(int pid, String name) {
        long taskAddr = allocate(TASK_SIZE);
        long procAddr = allocate(PROC_SIZE);
        Task task = new Task(pid, name, taskAddr, procAddr, this::newSpace, this::newKobjectPort);
        tasks.put(pid, task);
        byAddress.put(taskAddr, task);
        byAddress.put(procAddr, task);
        return task;
    }

    private IpcSpace newSpace(Task task) {
        long addr = allocate(SPACE_SIZE);
        IpcSpace space = new IpcSpace(task, addr, IpcSpace.MAX_ENTRIES);
        byAddress.put(addr, space);
        return space;
    }

    private IpcPort newKobjectPort(Object kobject) {
        return newPort(null, kobject);
    }

    private IpcPort newPort(IpcSpace receiver, Object kobject) {
        long addr = allocate(PORT_SIZE);
        IpcPort port = new IpcPort(addr, receiver, kobject);
        byAddress.put(addr, port);
        livePorts++;
        return port;
    }

    /** {@code thread_create}: a new thread of the task, with its thread port. */
    public synchronized MachThread threadCreate(Task task) {
        checkAlive(task);
        long addr = allocate(THREAD_SIZE);
        MachThread thread = new MachThread(nextThreadId++, task, addr, this::newKobjectPort);
        byAddress.put(addr, thread);
        task.threads.add(thread);
        return thread;
    }

    /**
     * {@code thread_terminate}: the thread ends and its port dies. Every name a task holds for it
     * becomes a dead name, keeping its user references: a {@code mach_thread_self()} reference that
     * was never deallocated outlives the thread and keeps its name in use.
     */
    public synchronized void threadTerminate(MachThread thread) {
        if (!thread.alive) {
            return;
        }
        thread.alive = false;
        thread.task().threads.remove(thread);
        destroyPort(thread.port);
        byAddress.remove(thread.address());
    }

    /** The task ends (exit or crash): its rights are released, its threads and ports die. */
    public synchronized void terminate(Task task) {
        if (!task.alive || task == kernelTask) {
            return;
        }
        for (MachThread t : List.copyOf(task.threads)) {
            threadTerminate(t);
        }
        IpcSpace space = task.space;
        for (int i = 1; i < space.tableSize(); i++) {
            if (IpcSpace.type(space.bits[i]) != 0) {
                destroyEntry(space, i);
            }
        }
        space.active = false;
        task.alive = false;
        destroyPort(task.taskPort);
        tasks.remove(task.pid());
        for (long a : new long[]{space.address(), task.address(), task.procAddress()}) {
            byAddress.remove(a);
        }
    }

    /** A new object's address; addresses are never reused, so a stale one never names a new object. */
    private long allocate(int size) {
        long addr = nextAddress;
        nextAddress += (size + 15) & ~15L;
        return addr;
    }

    /** Ports alive now (not yet freed: active, or dead but still named somewhere). */
    public synchronized long livePorts() {
        return livePorts;
    }

    /** Live tasks by pid, kernel_task first. */
    public synchronized Collection<Task> tasks() {
        return List.copyOf(tasks.values());
    }

    /** The live task with this pid, or null. */
    public synchronized Task task(int pid) {
        return tasks.get(pid);
    }

    /** The object at a kernel address (a task, proc's task, space, port, port set or thread), or null. */
    public synchronized Object objectAt(long address) {
        return byAddress.get(address);
    }

    /** The task whose {@code task_t} or {@code proc_t} is at {@code address}, or null. */
    public synchronized Task taskAt(long address) {
        return byAddress.get(address) instanceof Task t ? t : null;
    }

    /** The task whose task port {@code name} names in {@code space}, or null (MIG's {@code convert_port_to_task}). */
    public synchronized Task taskNamed(IpcSpace space, int name) {
        int index = space.lookup(name);
        if (index < 0) {
            return null;
        }
        checkDead(space, index);
        return space.objects[index] instanceof IpcPort p && p.active && p.kobject instanceof Task t
                && (IpcSpace.type(space.bits[index]) & MACH_PORT_TYPE_SEND) != 0 ? t : null;
    }

    // ---------------------------------------------------------------------------------------------
    // Traps

    /** {@code task_self_trap()}: a new send-right reference to the task's own port. */
    public synchronized int taskSelfTrap(Task task) {
        checkAlive(task);
        task.taskPort.srights++;
        task.taskPort.references++;
        return copyoutSend(task.space, task.taskPort);
    }

    /**
     * {@code mach_thread_self()} ({@code thread_self_trap}): one more send-right user reference
     * to the thread's port in its task's space, under the same name each time. The caller owns it.
     */
    public synchronized int threadSelfTrap(MachThread thread) {
        checkAlive(thread.task());
        if (!thread.alive) {
            return MACH_PORT_DEAD;
        }
        thread.port.srights++;
        thread.port.references++;
        return copyoutSend(thread.task().space, thread.port);
    }

    // ---------------------------------------------------------------------------------------------
    // mach_port_*

    /** {@code mach_port_allocate}: RECEIVE, PORT_SET or DEAD_NAME; other rights are KERN_INVALID_VALUE. */
    public synchronized int allocate(IpcSpace space, int right, int[] name) {
        if (!space.active) {
            return KERN_INVALID_TASK;
        }
        if (right != MACH_PORT_RIGHT_RECEIVE && right != MACH_PORT_RIGHT_PORT_SET && right != MACH_PORT_RIGHT_DEAD_NAME) {
            return KERN_INVALID_VALUE;
        }
        int index = space.claim();
        if (index < 0) {
            return KERN_NO_SPACE;
        }
        switch (right) {
            case MACH_PORT_RIGHT_RECEIVE -> {
                IpcPort port = newPort(space, null);
                space.objects[index] = port;
                space.bits[index] |= MACH_PORT_TYPE_RECEIVE;
                space.setReverse(port, index);
            }
            case MACH_PORT_RIGHT_PORT_SET -> {
                long addr = allocate(PSET_SIZE);
                IpcPortSet pset = new IpcPortSet(addr);
                byAddress.put(addr, pset);
                space.objects[index] = pset;
                space.bits[index] |= MACH_PORT_TYPE_PORT_SET;
            }
            default -> space.bits[index] |= MACH_PORT_TYPE_DEAD_NAME | 1;
        }
        name[0] = space.nameAt(index);
        return KERN_SUCCESS;
    }

    /**
     * {@code mach_port_deallocate}: releases one user reference of a send right, send-once right
     * or dead name (pegged references stay pegged); destroys a port set; a receive-only name is
     * KERN_INVALID_RIGHT with a guard exception.
     */
    public synchronized int deallocate(IpcSpace space, int name) {
        if (!space.active) {
            return KERN_INVALID_TASK;
        }
        if (!MACH_PORT_VALID(name)) {
            return KERN_SUCCESS;
        }
        int index = space.lookup(name);
        if (index < 0) {
            return KERN_INVALID_NAME;
        }
        checkDead(space, index);
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        if (type == MACH_PORT_TYPE_PORT_SET) {
            destroyEntry(space, index);
            return KERN_SUCCESS;
        }
        if (type == MACH_PORT_TYPE_SEND_ONCE) {
            destroyEntry(space, index);
            return KERN_SUCCESS;
        }
        if ((type & (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_DEAD_NAME)) == 0) {
            guard(space, name, "kGUARD_EXC_INVALID_RIGHT");
            return KERN_INVALID_RIGHT;
        }
        return dropUrefs(space, index, 1);
    }

    /** {@code mach_port_mod_refs}: see the class comment for the rules. */
    public synchronized int modRefs(IpcSpace space, int name, int right, int delta) {
        if (!space.active) {
            return KERN_INVALID_TASK;
        }
        if (right < 0 || right >= MACH_PORT_RIGHT_NUMBER) {
            return KERN_INVALID_VALUE;
        }
        if (!MACH_PORT_VALID(name)) {
            return right == MACH_PORT_RIGHT_SEND || right == MACH_PORT_RIGHT_SEND_ONCE ? KERN_SUCCESS : KERN_INVALID_NAME;
        }
        int index = space.lookup(name);
        if (index < 0) {
            return KERN_INVALID_NAME;
        }
        boolean died = checkDead(space, index);
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        switch (right) {
            case MACH_PORT_RIGHT_RECEIVE, MACH_PORT_RIGHT_PORT_SET, MACH_PORT_RIGHT_SEND_ONCE -> {
                int needed = right == MACH_PORT_RIGHT_RECEIVE ? MACH_PORT_TYPE_RECEIVE
                        : right == MACH_PORT_RIGHT_PORT_SET ? MACH_PORT_TYPE_PORT_SET : MACH_PORT_TYPE_SEND_ONCE;
                if ((type & needed) == 0) {
                    guard(space, name, "kGUARD_EXC_INVALID_RIGHT");
                    return KERN_INVALID_RIGHT;
                }
                if (delta == 0) {
                    return KERN_SUCCESS;
                }
                if (delta != -1) {
                    guard(space, name, "kGUARD_EXC_INVALID_VALUE");
                    return KERN_INVALID_VALUE;
                }
                if (right == MACH_PORT_RIGHT_RECEIVE) {
                    destroyReceive(space, index);
                } else {
                    destroyEntry(space, index);
                }
                return KERN_SUCCESS;
            }
            case MACH_PORT_RIGHT_DEAD_NAME -> {
                if (type != MACH_PORT_TYPE_DEAD_NAME) {
                    guard(space, name, "kGUARD_EXC_INVALID_RIGHT");
                    return KERN_INVALID_RIGHT;
                }
                return changeUrefs(space, name, index, delta);
            }
            case MACH_PORT_RIGHT_SEND -> {
                if (died || (type & MACH_PORT_TYPE_SEND) == 0) {
                    guard(space, name, "kGUARD_EXC_INVALID_RIGHT");
                    return KERN_INVALID_RIGHT;
                }
                return changeUrefs(space, name, index, delta);
            }
            default -> {
                return KERN_INVALID_VALUE; // MACH_PORT_RIGHT_LABELH: obsolete
            }
        }
    }

    /** {@code mach_port_get_refs}: user references of one right of the name (receive: 1 or 0). */
    public synchronized int getRefs(IpcSpace space, int name, int right, int[] refs) {
        if (!space.active) {
            return KERN_INVALID_TASK;
        }
        if (right < 0 || right >= MACH_PORT_RIGHT_NUMBER) {
            return KERN_INVALID_VALUE;
        }
        int index = space.lookup(name);
        if (index < 0) {
            if (!MACH_PORT_VALID(name)) {
                refs[0] = 0;
                return KERN_SUCCESS;
            }
            return KERN_INVALID_NAME;
        }
        checkDead(space, index);
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        refs[0] = switch (right) {
            case MACH_PORT_RIGHT_SEND -> (type & MACH_PORT_TYPE_SEND) != 0 ? IpcSpace.urefs(bits) : 0;
            case MACH_PORT_RIGHT_DEAD_NAME -> type == MACH_PORT_TYPE_DEAD_NAME ? IpcSpace.urefs(bits) : 0;
            case MACH_PORT_RIGHT_RECEIVE -> (type & MACH_PORT_TYPE_RECEIVE) != 0 ? 1 : 0;
            case MACH_PORT_RIGHT_SEND_ONCE -> (type & MACH_PORT_TYPE_SEND_ONCE) != 0 ? 1 : 0;
            case MACH_PORT_RIGHT_PORT_SET -> (type & MACH_PORT_TYPE_PORT_SET) != 0 ? 1 : 0;
            default -> 0;
        };
        return KERN_SUCCESS;
    }

    /**
     * {@code mach_port_move_member}: puts the receive right {@code member} into the port set
     * {@code after}, taking it out of any set it was in; with {@code after} MACH_PORT_NULL, only
     * takes it out (KERN_NOT_IN_SET if it was in none). A member of NULL or DEAD, or an
     * {@code after} of DEAD, is KERN_INVALID_RIGHT; both names are looked up before their rights
     * are checked ({@code ipc_object_translate_two}), so an unknown name is KERN_INVALID_NAME even
     * when the other name holds the wrong right.
     */
    public synchronized int moveMember(IpcSpace space, int member, int after) {
        if (!space.active) {
            return KERN_INVALID_TASK;
        }
        if (!MACH_PORT_VALID(member) || after == MACH_PORT_DEAD) {
            return KERN_INVALID_RIGHT;
        }
        int memberIndex = space.lookup(member);
        int setIndex = after == MACH_PORT_NULL ? 0 : space.lookup(after);
        if (memberIndex < 0 || setIndex < 0) {
            return KERN_INVALID_NAME;
        }
        if ((IpcSpace.type(space.bits[memberIndex]) & MACH_PORT_TYPE_RECEIVE) == 0) {
            return KERN_INVALID_RIGHT;
        }
        if (after != MACH_PORT_NULL && IpcSpace.type(space.bits[setIndex]) != MACH_PORT_TYPE_PORT_SET) {
            return KERN_INVALID_RIGHT;
        }
        IpcPort port = (IpcPort) space.objects[memberIndex];
        if (after == MACH_PORT_NULL) {
            if (port.pset == null) {
                return KERN_NOT_IN_SET;
            }
            leaveSet(port);
            return KERN_SUCCESS;
        }
        leaveSet(port);
        IpcPortSet pset = (IpcPortSet) space.objects[setIndex];
        pset.members.add(port);
        port.pset = pset;
        return KERN_SUCCESS;
    }

    /**
     * {@code mach_port_get_set_status}: the space's names for the receive rights in the port set
     * {@code name}, in ascending order (xnu sorts them with {@code mach_port_name_cmp}). A name of
     * NULL or DEAD is KERN_INVALID_RIGHT, an unknown name KERN_INVALID_NAME, a name that is not a
     * port set KERN_INVALID_RIGHT.
     */
    public synchronized int getSetStatus(IpcSpace space, int name, int[][] members, int[] membersCnt) {
        if (!space.active) {
            return KERN_INVALID_TASK;
        }
        if (!MACH_PORT_VALID(name)) {
            return KERN_INVALID_RIGHT;
        }
        int index = space.lookup(name);
        if (index < 0) {
            return KERN_INVALID_NAME;
        }
        if (IpcSpace.type(space.bits[index]) != MACH_PORT_TYPE_PORT_SET) {
            return KERN_INVALID_RIGHT;
        }
        IpcPortSet pset = (IpcPortSet) space.objects[index];
        int[] names = pset.members.stream()
                .mapToInt(port -> space.nameAt(space.reverseLookup(port)))
                .boxed().sorted(Integer::compareUnsigned).mapToInt(Integer::intValue).toArray();
        members[0] = names;
        membersCnt[0] = names.length;
        return KERN_SUCCESS;
    }

    /**
     * {@code mach_port_insert_right}: copies the right {@code poly} in from {@code from} (the
     * caller's space) as {@code polyPoly} says, then gives it to {@code target} under {@code name}.
     * A bad disposition or a target name of NULL/DEAD is KERN_INVALID_VALUE; a caller without the
     * right gets MIG's MACH_SEND_INVALID_RIGHT; the name naming another object is KERN_NAME_EXISTS;
     * the port already named otherwise in the target is KERN_RIGHT_EXISTS.
     */
    public synchronized int insertRight(IpcSpace target, int name, IpcSpace from, int poly, int polyPoly) {
        if (!target.active || !from.active) {
            return KERN_INVALID_TASK;
        }
        if (!MACH_PORT_VALID(name) || polyPoly < MACH_MSG_TYPE_MOVE_RECEIVE || polyPoly > MACH_MSG_TYPE_MAKE_SEND_ONCE) {
            return KERN_INVALID_VALUE;
        }
        int fromIndex = from.lookup(poly);
        if (fromIndex < 0) {
            return MACH_SEND_INVALID_RIGHT;
        }
        checkDead(from, fromIndex);
        Object object = from.objects[fromIndex];
        if (!(object instanceof IpcPort port) || !canCopyin(from, fromIndex, polyPoly)) {
            return MACH_SEND_INVALID_RIGHT;
        }
        int rightType = rightTypeOf(polyPoly);
        // ipc_object_copyout_name's checks, made before the copyin so that a refusal changes nothing.
        int existing = target.lookup(name);
        int index = name >>> 8;
        if (existing < 0 && index < target.tableSize() && IpcSpace.type(target.bits[index]) != 0) {
            return KERN_NAME_EXISTS; // same index, another generation
        }
        if (existing >= 0) {
            checkDead(target, existing);
            if (IpcSpace.type(target.bits[existing]) == 0 || target.objects[existing] != port
                    || rightType == MACH_PORT_TYPE_SEND_ONCE) {
                return KERN_NAME_EXISTS;
            }
            if (rightType == MACH_PORT_TYPE_RECEIVE && (IpcSpace.type(target.bits[existing]) & MACH_PORT_TYPE_RECEIVE) != 0) {
                return KERN_RIGHT_EXISTS;
            }
        } else {
            Integer other = target.reverseLookup(port);
            if (other != null && rightType != MACH_PORT_TYPE_SEND_ONCE) {
                return KERN_RIGHT_EXISTS;
            }
            if (index == 0 || index >= IpcSpace.MAX_ENTRIES) {
                return index == 0 ? KERN_INVALID_VALUE : KERN_NO_SPACE;
            }
        }
        MachMessage.Right right = copyin(from, fromIndex, polyPoly);
        if (existing >= 0) {
            mergeInto(target, existing, right);
            return KERN_SUCCESS;
        }
        int claimed = target.claimName(name);
        if (claimed < 0) {
            destroyRight(right);
            return KERN_NO_SPACE;
        }
        fill(target, claimed, right);
        return KERN_SUCCESS;
    }

    /** {@code mach_port_names}: every name in use, ascending, with its type bits. */
    public synchronized int names(IpcSpace space, int[][] names, int[] namesCnt, int[][] types, int[] typesCnt) {
        if (!space.active) {
            return KERN_INVALID_TASK;
        }
        int[] n = new int[space.namesInUse()];
        int[] t = new int[n.length];
        int k = 0;
        for (int i = 1; i < space.tableSize() && k < n.length; i++) {
            if (IpcSpace.type(space.bits[i]) != 0) {
                n[k] = space.nameAt(i);
                t[k++] = IpcSpace.type(visibleBits(space, i));
            }
        }
        names[0] = n;
        types[0] = t;
        namesCnt[0] = k;
        typesCnt[0] = k;
        return KERN_SUCCESS;
    }

    // ---------------------------------------------------------------------------------------------
    // Messages

    /**
     * {@code mach_msg} send: copies the destination right (COPY_SEND, MOVE_SEND or MOVE_SEND_ONCE)
     * and every carried right in from {@code from}, then queues the message on the destination's
     * message queue. Rights cross tasks this way.
     */
    public synchronized int send(IpcSpace from, int dest, int destDisposition, int id, int[] names, int[] dispositions) {
        if (destDisposition != MACH_MSG_TYPE_COPY_SEND && destDisposition != MACH_MSG_TYPE_MOVE_SEND
                && destDisposition != MACH_MSG_TYPE_MOVE_SEND_ONCE && destDisposition != MACH_MSG_TYPE_MAKE_SEND
                && destDisposition != MACH_MSG_TYPE_MAKE_SEND_ONCE) {
            return MACH_SEND_INVALID_HEADER;
        }
        int destIndex = from.lookup(dest);
        if (destIndex < 0) {
            return MACH_SEND_INVALID_DEST;
        }
        checkDead(from, destIndex);
        if (!(from.objects[destIndex] instanceof IpcPort port) || !canCopyin(from, destIndex, destDisposition)
                || !port.active) {
            return MACH_SEND_INVALID_DEST;
        }
        for (int i = 0; i < names.length; i++) {
            int index = from.lookup(names[i]);
            if (index < 0 || names[i] == dest) {
                return MACH_SEND_INVALID_RIGHT;
            }
            checkDead(from, index);
            if (!(from.objects[index] instanceof IpcPort) || !canCopyin(from, index, dispositions[i])) {
                return MACH_SEND_INVALID_RIGHT;
            }
        }
        MachMessage.Right destRight = copyin(from, destIndex, destDisposition);
        List<MachMessage.Right> rights = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            rights.add(copyin(from, from.lookup(names[i]), dispositions[i]));
        }
        if (port.kobject != null) {
            rights.forEach(this::destroyRight); // a kernel object's server consumes the message
        } else {
            port.messages.add(new MachMessage(id, from.task().pid(), rights));
        }
        destroyRight(destRight); // the kernel consumes the destination right on delivery
        return MACH_MSG_SUCCESS;
    }

    /**
     * Moves, copies or makes a right from one space into another, as a message that carries it from
     * sender to receiver does; returns its name in {@code to}, or MACH_PORT_NULL if {@code from}
     * cannot give it.
     */
    public synchronized int transfer(IpcSpace from, int name, int disposition, IpcSpace to) {
        int index = from.lookup(name);
        if (index < 0 || !from.active || !to.active) {
            return 0;
        }
        checkDead(from, index);
        if (!(from.objects[index] instanceof IpcPort) || !canCopyin(from, index, disposition)) {
            return 0;
        }
        return copyout(to, copyin(from, index, disposition));
    }

    /** A message as the receiver sees it: its id and the names its rights got in the receiver's space. */
    public record Received(int id, int sender, int[] names, int[] types) {
    }

    /** {@code mach_msg} receive with a zero timeout: the first queued message, its rights copied out. */
    public synchronized int receive(IpcSpace space, int name, Received[] out) {
        int index = space.lookup(name);
        if (index < 0 || !(space.objects[index] instanceof IpcPort port)
                || (IpcSpace.type(space.bits[index]) & MACH_PORT_TYPE_RECEIVE) == 0) {
            return MACH_RCV_INVALID_NAME;
        }
        MachMessage m = port.messages.poll();
        if (m == null) {
            return MACH_RCV_TIMED_OUT;
        }
        int[] names = new int[m.rights().size()];
        int[] types = new int[names.length];
        for (int i = 0; i < names.length; i++) {
            MachMessage.Right r = m.rights().get(i);
            names[i] = copyout(space, r);
            types[i] = r.type();
        }
        out[0] = new Received(m.id(), m.sender(), names, types);
        return MACH_MSG_SUCCESS;
    }

    // ---------------------------------------------------------------------------------------------
    // Census and kext tracking

    /** What {@code mach_port_names} shows for each live task: Activity Monitor's "Ports" column and more. */
    public synchronized PortCensus census() {
        List<PortCensus.Row> rows = new ArrayList<>();
        for (Task t : tasks.values()) {
            if (t == kernelTask) {
                continue;
            }
            IpcSpace s = t.space;
            int send = 0, receive = 0, sendOnce = 0, pset = 0, dead = 0;
            long urefs = 0;
            for (int i = 1; i < s.tableSize(); i++) {
                int type = IpcSpace.type(s.bits[i]);
                if (type == 0) {
                    continue;
                }
                int bits = visibleBits(s, i);
                type = IpcSpace.type(bits);
                send += (type & MACH_PORT_TYPE_SEND) != 0 ? 1 : 0;
                receive += (type & MACH_PORT_TYPE_RECEIVE) != 0 ? 1 : 0;
                sendOnce += (type & MACH_PORT_TYPE_SEND_ONCE) != 0 ? 1 : 0;
                pset += (type & MACH_PORT_TYPE_PORT_SET) != 0 ? 1 : 0;
                dead += type == MACH_PORT_TYPE_DEAD_NAME ? 1 : 0;
                urefs += IpcSpace.urefs(bits);
            }
            rows.add(new PortCensus.Row(t.pid(), t.name(), s.namesInUse(), send, receive, sendOnce, pset, dead, urefs,
                    s.tableSize(), t.threads.size()));
        }
        return new PortCensus(rows);
    }

    /** The ledger of rights kexts' code added and released, by load tag. */
    public synchronized KextPortRights kextRights() {
        return kextRights;
    }

    /**
     * The {@code ie_bits} of a name as {@code mach_port_names} reports them (a send right whose port
     * died shows as a dead name), or 0 if it is not in use. Read-only: the entry is not rewritten.
     */
    public synchronized int bitsOf(IpcSpace space, int name) {
        int index = space.lookup(name);
        return index < 0 ? 0 : visibleBits(space, index);
    }

    /** The object a name in use stands for (port or port set), or null. */
    public synchronized Object objectOf(IpcSpace space, int name) {
        int index = space.lookup(name);
        return index < 0 ? null : space.objects[index];
    }

    // ---------------------------------------------------------------------------------------------
    // Rights (ipc_right.c, ipc_object.c)

    private static void checkAlive(Task task) {
        if (!task.alive) {
            throw new IllegalStateException(task + " has terminated; a dead task makes no more calls");
        }
    }

    private void guard(IpcSpace space, int name, String code) {
        space.task().guardExceptions.add(String.format("EXC_GUARD GUARD_TYPE_MACH_PORT %s name 0x%x", code, name));
    }

    /**
     * An entry's bits as {@code mach_port_names_helper} reports them: a send or send-once right whose
     * port is inactive reads as a dead name with the same user references. It only reads: the entry
     * turns into a dead name for real when a call uses the name ({@link #checkDead}), so counting
     * never changes what a later reader (port_tracer's kext reading {@code ie_bits}) sees.
     */
    private static int visibleBits(IpcSpace space, int index) {
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        if ((type & (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE)) == 0
                || !(space.objects[index] instanceof IpcPort port) || port.active) {
            return bits;
        }
        return (bits & ~IpcSpace.IE_BITS_TYPE_MASK) | MACH_PORT_TYPE_DEAD_NAME;
    }

    /** {@code ipc_right_check}: a send or send-once right whose port died becomes a dead name. Returns true if so. */
    private boolean checkDead(IpcSpace space, int index) {
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        if ((type & (MACH_PORT_TYPE_SEND | MACH_PORT_TYPE_SEND_ONCE)) == 0
                || !(space.objects[index] instanceof IpcPort port) || port.active) {
            return false;
        }
        int urefs = (type & MACH_PORT_TYPE_SEND_ONCE) != 0 ? 1 : IpcSpace.urefs(bits);
        space.clearReverse(port);
        space.objects[index] = null;
        space.bits[index] = (bits & ~(IpcSpace.IE_BITS_TYPE_MASK | IpcSpace.IE_BITS_UREFS_MASK))
                | MACH_PORT_TYPE_DEAD_NAME | urefs;
        if ((type & MACH_PORT_TYPE_SEND) != 0) {
            port.srights--;
        } else {
            port.sorights--;
        }
        release(port);
        return true;
    }

    /** Adds user references with XNU's pegging: at MACH_PORT_UREFS_MAX only a delta of exactly -MAX changes them. */
    private int changeUrefs(IpcSpace space, int name, int index, int delta) {
        int urefs = IpcSpace.urefs(space.bits[index]);
        if (delta > MACH_PORT_UREFS_MAX || delta < -MACH_PORT_UREFS_MAX || (delta < 0 && -delta > urefs)) {
            guard(space, name, "kGUARD_EXC_INVALID_VALUE");
            return KERN_INVALID_VALUE;
        }
        if (urefs == MACH_PORT_UREFS_MAX) {
            if (delta != -MACH_PORT_UREFS_MAX) {
                return KERN_SUCCESS;
            }
        } else if (urefs + delta > MACH_PORT_UREFS_MAX) {
            delta = MACH_PORT_UREFS_MAX - urefs;
        }
        if (delta < 0) {
            return dropUrefs(space, index, -delta);
        }
        space.bits[index] += delta;
        return KERN_SUCCESS;
    }

    /** Releases user references of a send right or dead name; pegged references stay unless all go at once. */
    private int dropUrefs(IpcSpace space, int index, int n) {
        int bits = space.bits[index];
        int urefs = IpcSpace.urefs(bits);
        if (urefs == MACH_PORT_UREFS_MAX && n != MACH_PORT_UREFS_MAX) {
            return KERN_SUCCESS; // pegged: leave pegged
        }
        if (urefs > n) {
            space.bits[index] = bits - n;
            return KERN_SUCCESS;
        }
        int type = IpcSpace.type(bits);
        if (type == MACH_PORT_TYPE_DEAD_NAME) {
            space.release(index);
            return KERN_SUCCESS;
        }
        IpcPort port = (IpcPort) space.objects[index];
        port.srights--;
        if ((type & MACH_PORT_TYPE_RECEIVE) != 0) {
            space.bits[index] = (bits & ~(MACH_PORT_TYPE_SEND | IpcSpace.IE_BITS_UREFS_MASK));
        } else {
            space.release(index);
            release(port);
        }
        return KERN_SUCCESS;
    }

    /** Destroys whatever an entry holds ({@code ipc_right_destroy}) and frees the name. */
    private void destroyEntry(IpcSpace space, int index) {
        checkDead(space, index);
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        Object o = space.objects[index];
        if (o instanceof IpcPortSet pset) {
            pset.active = false;
            pset.members.forEach(member -> member.pset = null);
            pset.members.clear();
            space.release(index);
            byAddress.remove(pset.address());
            return;
        }
        if (o instanceof IpcPort port) {
            if ((type & MACH_PORT_TYPE_SEND) != 0) {
                port.srights--;
            }
            if ((type & MACH_PORT_TYPE_SEND_ONCE) != 0) {
                port.sorights--;
            }
            space.release(index);
            if ((type & MACH_PORT_TYPE_RECEIVE) != 0) {
                port.receiver = null;
                destroyPort(port);
            }
            release(port);
            return;
        }
        space.release(index);
    }

    /** {@code mach_port_mod_refs(RECEIVE, -1)}: the port dies; a send right on the same name becomes a dead name. */
    private void destroyReceive(IpcSpace space, int index) {
        IpcPort port = (IpcPort) space.objects[index];
        int bits = space.bits[index];
        if ((IpcSpace.type(bits) & MACH_PORT_TYPE_SEND) != 0) {
            space.bits[index] = bits & ~MACH_PORT_TYPE_RECEIVE;
            port.receiver = null;
            destroyPort(port);
            checkDead(space, index);
            return;
        }
        destroyEntry(space, index);
    }

    /** {@code ipc_port_destroy}: the port goes inactive; queued messages and the rights in them are destroyed. */
    private void destroyPort(IpcPort port) {
        if (!port.active) {
            return;
        }
        port.active = false;
        port.receiver = null;
        leaveSet(port);
        MachMessage m;
        while ((m = port.messages.poll()) != null) {
            m.rights().forEach(this::destroyRight);
        }
        if (port.kobject != null) {
            release(port); // the kernel object's reference
        }
    }

    /** Takes the port out of the port set it is in, if any ({@code ipc_pset_remove_from_all}). */
    private static void leaveSet(IpcPort port) {
        if (port.pset != null) {
            port.pset.members.remove(port);
            port.pset = null;
        }
    }

    private void destroyRight(MachMessage.Right right) {
        IpcPort port = right.port();
        switch (right.type()) {
            case MACH_PORT_TYPE_SEND -> port.srights--;
            case MACH_PORT_TYPE_SEND_ONCE -> port.sorights--;
            default -> destroyPort(port);
        }
        release(port);
    }

    private void release(IpcPort port) {
        if (--port.references == 0) {
            byAddress.remove(port.address());
            livePorts--;
        }
    }

    private static int rightTypeOf(int disposition) {
        return switch (disposition) {
            case MACH_MSG_TYPE_MOVE_RECEIVE -> MACH_PORT_TYPE_RECEIVE;
            case MACH_MSG_TYPE_MOVE_SEND_ONCE, MACH_MSG_TYPE_MAKE_SEND_ONCE -> MACH_PORT_TYPE_SEND_ONCE;
            default -> MACH_PORT_TYPE_SEND;
        };
    }

    private static boolean canCopyin(IpcSpace space, int index, int disposition) {
        int type = IpcSpace.type(space.bits[index]);
        return switch (disposition) {
            case MACH_MSG_TYPE_MOVE_RECEIVE, MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_MAKE_SEND_ONCE ->
                    (type & MACH_PORT_TYPE_RECEIVE) != 0;
            case MACH_MSG_TYPE_COPY_SEND, MACH_MSG_TYPE_MOVE_SEND -> (type & MACH_PORT_TYPE_SEND) != 0;
            case MACH_MSG_TYPE_MOVE_SEND_ONCE -> (type & MACH_PORT_TYPE_SEND_ONCE) != 0;
            default -> false;
        };
    }

    /** {@code ipc_right_copyin}: takes the right out of (or makes it from) the entry; checked by {@link #canCopyin}. */
    private MachMessage.Right copyin(IpcSpace space, int index, int disposition) {
        IpcPort port = (IpcPort) space.objects[index];
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        switch (disposition) {
            case MACH_MSG_TYPE_MAKE_SEND, MACH_MSG_TYPE_COPY_SEND -> {
                port.srights++;
                port.references++;
                return new MachMessage.Right(MACH_PORT_TYPE_SEND, port);
            }
            case MACH_MSG_TYPE_MAKE_SEND_ONCE -> {
                port.sorights++;
                port.references++;
                return new MachMessage.Right(MACH_PORT_TYPE_SEND_ONCE, port);
            }
            case MACH_MSG_TYPE_MOVE_SEND -> {
                int urefs = IpcSpace.urefs(bits);
                port.references++;
                if (urefs == MACH_PORT_UREFS_MAX) {
                    port.srights++; // pegged: the entry keeps its references, the message gets a new right
                } else if (urefs > 1) {
                    space.bits[index] = bits - 1;
                    port.srights++;
                } else if ((type & MACH_PORT_TYPE_RECEIVE) != 0) {
                    space.bits[index] = bits & ~(MACH_PORT_TYPE_SEND | IpcSpace.IE_BITS_UREFS_MASK);
                } else {
                    space.release(index);
                    port.references--; // the entry's reference moves to the message
                }
                return new MachMessage.Right(MACH_PORT_TYPE_SEND, port);
            }
            case MACH_MSG_TYPE_MOVE_SEND_ONCE -> {
                space.release(index);
                return new MachMessage.Right(MACH_PORT_TYPE_SEND_ONCE, port);
            }
            default -> { // MOVE_RECEIVE: ipc_port_clear_receiver also takes the port out of its set
                port.receiver = null;
                leaveSet(port);
                port.references++;
                if ((type & MACH_PORT_TYPE_SEND) != 0) {
                    space.bits[index] = bits & ~MACH_PORT_TYPE_RECEIVE;
                } else {
                    space.release(index);
                    port.references--;
                }
                return new MachMessage.Right(MACH_PORT_TYPE_RECEIVE, port);
            }
        }
    }

    /** {@code ipc_object_copyout}: the right gets a name in the space (the existing one for send rights). */
    private int copyout(IpcSpace space, MachMessage.Right right) {
        IpcPort port = right.port();
        if (right.type() != MACH_PORT_TYPE_SEND_ONCE) {
            Integer existing = space.reverseLookup(port);
            if (existing != null) {
                mergeInto(space, existing, right);
                return space.nameAt(existing);
            }
        }
        int index = space.claim();
        if (index < 0) {
            destroyRight(right);
            return MACH_PORT_DEAD;
        }
        fill(space, index, right);
        return space.nameAt(index);
    }

    /** Names a send right in the space (or adds a reference to the name it has), for the traps. */
    private int copyoutSend(IpcSpace space, IpcPort port) {
        return copyout(space, new MachMessage.Right(MACH_PORT_TYPE_SEND, port));
    }

    private void fill(IpcSpace space, int index, MachMessage.Right right) {
        IpcPort port = right.port();
        space.objects[index] = port;
        switch (right.type()) {
            case MACH_PORT_TYPE_SEND -> {
                space.bits[index] |= MACH_PORT_TYPE_SEND | 1;
                space.setReverse(port, index);
            }
            case MACH_PORT_TYPE_SEND_ONCE -> space.bits[index] |= MACH_PORT_TYPE_SEND_ONCE | 1;
            default -> {
                space.bits[index] |= MACH_PORT_TYPE_RECEIVE;
                port.receiver = space;
                space.setReverse(port, index);
            }
        }
    }

    /** A right for a port the entry already names: one more user reference, or the other half of send/receive. */
    private void mergeInto(IpcSpace space, int index, MachMessage.Right right) {
        IpcPort port = right.port();
        int bits = space.bits[index];
        int type = IpcSpace.type(bits);
        if (right.type() == MACH_PORT_TYPE_RECEIVE) {
            space.bits[index] = bits | MACH_PORT_TYPE_RECEIVE;
            port.receiver = space;
        } else if ((type & MACH_PORT_TYPE_SEND) != 0) {
            port.srights--; // the entry holds one send right whatever its user references
            if (IpcSpace.urefs(bits) < MACH_PORT_UREFS_MAX) {
                space.bits[index] = bits + 1;
            }
        } else {
            space.bits[index] = bits | MACH_PORT_TYPE_SEND | 1;
        }
        release(port); // the entry already holds a reference
    }
}
