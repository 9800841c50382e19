package dev.kextharness.kernel.user;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ipc.Ipc;
import dev.kextharness.kernel.ipc.IpcSpace;
import dev.kextharness.kernel.ipc.MachThread;
import dev.kextharness.kernel.ipc.Task;
import dev.kextharness.kernel.sysctl.SysctlTree;

import java.util.List;
import java.util.Objects;

import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_RECEIVE;

/**
 * A simulated user process and the libsystem calls it makes, spelled as in C: Mach port calls on
 * task port names ({@code mach_task_self()}), {@code mach_thread_self()}, messages that carry
 * rights between tasks, {@code sysctl}, {@code sysctlbyname}, {@code sysctlnametomib} and
 * {@code proc_listallpids}. Out-parameters are one-element arrays ({@code int[] name} for
 * {@code mach_port_name_t *name}).
 *
 * <p>Calls run on the process's current thread ({@link #currentThread()}, the main thread until
 * {@link #runOn} says otherwise). A process that crashes ({@link #__CFPortAllocate()} finding no
 * port names left) is terminated and every later call throws {@link IllegalStateException}.
 *
 * <p>Stability: experimental.
 */
public final class UserProcess {
    /** {@code errno} values the sysctl family sets. */
    public static final int ENOENT = SysctlTree.ENOENT;
    public static final int ENOMEM = SysctlTree.ENOMEM;
    public static final int EINVAL = SysctlTree.EINVAL;

    private final Kernel kernel;
    private final Task task;
    private MachThread current;
    private int errno;
    private CrashReport crash;

    private UserProcess(Kernel kernel, Task task) {
        this.kernel = kernel;
        this.task = task;
        this.current = task.threads().get(0);
    }

    /** Starts a process (fork + exec): a new pid, a main thread, libsystem initialised. */
    public static UserProcess spawn(Kernel kernel, String name) {
        Objects.requireNonNull(name, "name");
        kernel.checkAlive();
        return new UserProcess(kernel, kernel.ipc().spawn(name));
    }

    /** Attaches to a live process (a boot process such as Safari), to make calls as it. */
    public static UserProcess attach(Kernel kernel, int pid) {
        Task task = kernel.ipc().task(pid);
        if (task == null || pid == 0) {
            throw new IllegalArgumentException("no user process with pid " + pid
                    + "; the live ones are listed by kernel.portCensus()");
        }
        return new UserProcess(kernel, task);
    }

    public int pid() {
        return task.pid();
    }

    public String name() {
        return task.name();
    }

    public Task task() {
        return task;
    }

    public boolean isAlive() {
        return task.isAlive();
    }

    /** The crash report, if the process crashed. */
    public CrashReport crashReport() {
        return crash;
    }

    /** {@code errno} after the last failing libc call. */
    public int errno() {
        return errno;
    }

    private IpcSpace space() {
        if (!task.isAlive()) {
            throw new IllegalStateException(task + " is no longer running"
                    + (crash != null ? " (it crashed: " + crash.applicationSpecificInformation() + ")" : "")
                    + "; spawn a new process");
        }
        kernel.checkAlive();
        return task.space();
    }

    /** The task a task-port name stands for in this process, or null (MIG: MACH_SEND_INVALID_DEST). */
    private IpcSpace target(int taskName) {
        IpcSpace own = space();
        Task t = kernel.ipc().taskNamed(own, taskName);
        return t == null ? null : t.space();
    }

    // ---------------------------------------------------------------------------------------------
    // Threads

    /** {@code pthread_create}: a new thread (it runs nothing until {@link #runOn} is used). */
    public MachThread pthread_create() {
        space();
        return kernel.ipc().threadCreate(task);
    }

    /** Runs {@code body} with {@code thread} as the calling thread, then returns to the previous one. */
    public void runOn(MachThread thread, Runnable body) {
        if (thread.task() != task || !thread.isAlive()) {
            throw new IllegalArgumentException(thread + " is not a live thread of " + task);
        }
        MachThread previous = current;
        current = thread;
        try {
            body.run();
        } finally {
            current = previous.isAlive() ? previous : task.threads().isEmpty() ? null : task.threads().get(0);
        }
    }

    /** {@code pthread_exit} of a thread: the thread ends and its port dies. */
    public void pthread_exit(MachThread thread) {
        space();
        if (thread.task() != task) {
            throw new IllegalArgumentException(thread + " is not a thread of " + task);
        }
        if (task.threads().size() == 1) {
            throw new IllegalArgumentException("that is the last thread of " + task + "; call exit() to end the process");
        }
        kernel.ipc().threadTerminate(thread);
    }

    public MachThread currentThread() {
        return current;
    }

    /** {@code exit()}: the process ends and the kernel releases every right it held. */
    public void exit() {
        space();
        kernel.ipc().terminate(task);
    }

    // ---------------------------------------------------------------------------------------------
    // Mach

    /** {@code mach_task_self()}: the cached {@code mach_task_self_}; no new reference. */
    public int mach_task_self() {
        space();
        return task.taskSelfName();
    }

    /** {@code task_self_trap()}: the real trap, one new send-right reference per call. */
    public int task_self_trap() {
        space();
        return kernel.ipc().taskSelfTrap(task);
    }

    /** {@code mach_thread_self()}: one new send-right reference to the calling thread's port, every call. */
    public int mach_thread_self() {
        space();
        return kernel.ipc().threadSelfTrap(current);
    }

    public int mach_port_allocate(int task, int right, int[] name) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().allocate(s, right, name);
    }

    public int mach_port_deallocate(int task, int name) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().deallocate(s, name);
    }

    public int mach_port_mod_refs(int task, int name, int right, int delta) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().modRefs(s, name, right, delta);
    }

    public int mach_port_get_refs(int task, int name, int right, int[] refs) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().getRefs(s, name, right, refs);
    }

    /** {@code mach_port_insert_right(task, name, poly, polyPoly)}; {@code poly} names a right in this process. */
    public int mach_port_insert_right(int task, int name, int poly, int polyPoly) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().insertRight(s, name, space(), poly, polyPoly);
    }

    /** {@code mach_port_move_member(task, member, after)}: into the set {@code after}, or out with MACH_PORT_NULL. */
    public int mach_port_move_member(int task, int member, int after) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().moveMember(s, member, after);
    }

    /** {@code mach_port_get_set_status(task, name, &members, &membersCnt)}: the set's member names, ascending. */
    public int mach_port_get_set_status(int task, int name, int[][] members, int[] membersCnt) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().getSetStatus(s, name, members, membersCnt);
    }

    public int mach_port_names(int task, int[][] names, int[] namesCnt, int[][] types, int[] typesCnt) {
        IpcSpace s = target(task);
        return s == null ? Ipc.MACH_SEND_INVALID_DEST : kernel.ipc().names(s, names, namesCnt, types, typesCnt);
    }

    /**
     * {@code mach_msg(MACH_SEND_MSG)}: a message with id {@code msghId} to {@code remote}, carrying
     * the rights {@code ports[i]} with dispositions {@code dispositions[i]} (port descriptors).
     */
    public int mach_msg_send(int remote, int remoteDisposition, int msghId, int[] ports, int[] dispositions) {
        if (ports.length != dispositions.length) {
            throw new IllegalArgumentException(ports.length + " port descriptors but " + dispositions.length
                    + " dispositions; give one disposition per port");
        }
        return kernel.ipc().send(space(), remote, remoteDisposition, msghId, ports, dispositions);
    }

    /** {@code mach_msg(MACH_RCV_MSG | MACH_RCV_TIMEOUT, timeout 0)}: the next message on {@code local}, if any. */
    public int mach_msg_receive(int local, Ipc.Received[] msg) {
        return kernel.ipc().receive(space(), local, msg);
    }

    // ---------------------------------------------------------------------------------------------
    // CoreFoundation

    /**
     * CoreFoundation's {@code __CFPortAllocate()} (CFRunLoop.c): a receive right for a run loop. If
     * {@code mach_port_allocate} fails with no names left, CF sets its crash-log message and halts
     * in {@code __THE_SYSTEM_HAS_NO_PORTS_AVAILABLE__}: the process dies with a crash report.
     *
     * @throws ProcessCrash when the port space is full
     */
    public int __CFPortAllocate() {
        int[] name = new int[1];
        int ret = mach_port_allocate(mach_task_self(), MACH_PORT_RIGHT_RECEIVE, name);
        if (ret == KERN_SUCCESS) {
            return name[0];
        }
        String message = String.format("*** The system has no mach ports available. You may be able to diagnose "
                + "which application(s) are using ports by using 'top' or Activity Monitor. (%d) ***", ret);
        crash = new CrashReport(task.name(), task.pid(), "EXC_BREAKPOINT (SIGTRAP)", message, List.of(
                "com.apple.CoreFoundation      \t__THE_SYSTEM_HAS_NO_PORTS_AVAILABLE__",
                "com.apple.CoreFoundation      \t__CFPortAllocate",
                "com.apple.CoreFoundation      \t__CFRunLoopFindMode",
                "com.apple.CoreFoundation      \tCFRunLoopRunSpecific"));
        kernel.log().printf(task.name() + "[" + task.pid() + "]: " + message);
        kernel.ipc().terminate(task); // HALT: int3, then kill(getpid(), 9)
        throw new ProcessCrash(crash);
    }

    // ---------------------------------------------------------------------------------------------
    // BSD

    /** {@code proc_listallpids(buffer, buffersize)}: pids of all processes (buffersize in bytes); returns the count. */
    public int proc_listallpids(int[] buffer, int buffersize) {
        space();
        List<Task> tasks = List.copyOf(kernel.ipc().tasks());
        int max = buffer == null ? 0 : Math.min(buffer.length, buffersize / 4);
        int n = 0;
        for (Task t : tasks) {
            if (n < max) {
                buffer[n] = t.pid();
            }
            n++;
        }
        return buffer == null ? n : Math.min(n, max);
    }

    /**
     * {@code int sysctl(int *name, u_int namelen, void *oldp, size_t *oldlenp, void *newp, size_t newlen)}:
     * 0, or -1 with {@link #errno()} set. With {@code oldp == null}, {@code oldlenp[0]} receives the
     * size the handler would write (the first of the two calls).
     */
    public int sysctl(int[] name, int namelen, byte[] oldp, long[] oldlenp, byte[] newp, long newlen) {
        space();
        long oldlen = oldlenp == null ? 0 : oldlenp[0];
        if (oldp != null && (oldlenp == null || oldlen > oldp.length)) {
            throw new IllegalArgumentException("sysctl: *oldlenp (" + oldlen + ") is larger than the buffer oldp ("
                    + (oldp.length) + " bytes); pass the buffer's size");
        }
        if (newp != null && newlen > newp.length) {
            throw new IllegalArgumentException("sysctl: newlen (" + newlen + ") is larger than newp (" + newp.length
                    + " bytes)");
        }
        SysctlTree.Result r = kernel.sysctl(task, name, namelen, oldp, oldlen, newp, newlen);
        if (oldlenp != null) {
            oldlenp[0] = r.oldidx();
        }
        if (r.errno() != 0) {
            errno = r.errno();
            return -1;
        }
        return 0;
    }

    /** {@code int sysctlnametomib(const char *name, int *mibp, size_t *sizep)}. */
    public int sysctlnametomib(String name, int[] mibp, long[] sizep) {
        space();
        int[] mib = kernel.sysctl().nameToMib(name);
        if (mib == null) {
            errno = ENOENT;
            return -1;
        }
        if (mib.length > sizep[0] || mib.length > mibp.length) {
            errno = ENOMEM;
            return -1;
        }
        System.arraycopy(mib, 0, mibp, 0, mib.length);
        sizep[0] = mib.length;
        return 0;
    }

    /** {@code int sysctlbyname(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)}. */
    public int sysctlbyname(String name, byte[] oldp, long[] oldlenp, byte[] newp, long newlen) {
        int[] mib = new int[dev.kextharness.kpi.Sysctl.CTL_MAXNAME];
        long[] size = {mib.length};
        if (sysctlnametomib(name, mib, size) != 0) {
            return -1;
        }
        return sysctl(mib, (int) size[0], oldp, oldlenp, newp, newlen);
    }

    @Override
    public String toString() {
        return task.toString();
    }
}
