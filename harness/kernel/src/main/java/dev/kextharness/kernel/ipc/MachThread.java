package dev.kextharness.kernel.ipc;

/** A Mach thread of a task, with its thread port (a kernel object: the kernel holds the receive right). */
public final class MachThread {
    private final long threadId;
    private final Task task;
    private final long address;
    final IpcPort port;
    boolean alive = true;

    MachThread(long threadId, Task task, long address, IpcPort.Factory ports) {
        this.threadId = threadId;
        this.task = task;
        this.address = address;
        this.port = ports.kobject(this);
    }

    public long threadId() {
        return threadId;
    }

    public Task task() {
        return task;
    }

    /** {@code thread_t}. */
    public long address() {
        return address;
    }

    public IpcPort port() {
        return port;
    }

    public boolean isAlive() {
        return alive;
    }

    @Override
    public String toString() {
        return "thread " + threadId + " of " + task;
    }
}
