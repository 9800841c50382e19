package dev.kextharness.kernel.ipc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A Mach task with its BSD process ({@code proc_t}): pid, name, IPC space, task port and threads.
 * {@code mach_task_self_} is the name libsystem cached at start ({@code task_self_trap()}), which
 * is why {@code mach_task_self()} never adds a reference.
 */
public final class Task {
    private final int pid;
    private final String name;
    private final long address;
    private final long procAddress;
    final IpcSpace space;
    final IpcPort taskPort;
    final List<MachThread> threads = new ArrayList<>();
    int taskSelf;
    boolean alive = true;
    final List<String> guardExceptions = new ArrayList<>();

    Task(int pid, String name, long address, long procAddress, IpcSpace.Factory spaces, IpcPort.Factory ports) {
        this.pid = pid;
        this.name = name;
        this.address = address;
        this.procAddress = procAddress;
        this.space = spaces.create(this);
        this.taskPort = ports.kobject(this);
    }

    public int pid() {
        return pid;
    }

    public String name() {
        return name;
    }

    /** {@code task_t}. */
    public long address() {
        return address;
    }

    /** {@code proc_t}. */
    public long procAddress() {
        return procAddress;
    }

    public IpcSpace space() {
        return space;
    }

    public IpcPort taskPort() {
        return taskPort;
    }

    /** {@code mach_task_self_}: the cached name of the task's own port in its space. */
    public int taskSelfName() {
        return taskSelf;
    }

    public boolean isAlive() {
        return alive;
    }

    public List<MachThread> threads() {
        return Collections.unmodifiableList(threads);
    }

    /** The EXC_GUARD exceptions raised on misuse of port rights ({@code kGUARD_EXC_INVALID_RIGHT}, ...). */
    public List<String> guardExceptions() {
        return Collections.unmodifiableList(guardExceptions);
    }

    @Override
    public String toString() {
        return name + " [" + pid + "]";
    }
}
