package dev.kextharness.kernel.ipc;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * {@code struct ipc_port}: one Mach port, a zone element of {@code ipc ports}. Its message queue
 * ({@code ip_messages}) lives inside it, so the queue's address, {@link #mqueue()}, is the one value
 * that a receive right and every send right to the port share across tasks: the "magic number"
 * of the port-leak article.
 *
 * <p>References ({@code io_references}) are counted exactly: one for the receiver or kernel
 * object while the port is active, one per IPC entry that names it, one per right in a message.
 * The element is freed when the count reaches zero.
 */
public final class IpcPort {
    /** Offset of {@code ip_messages} inside the port (harness layout: after the 24-byte {@code ip_object}). */
    public static final long MQUEUE_OFFSET = 0x18;

    private final long address;
    IpcSpace receiver;
    /** What the port stands for when the kernel holds its receive right (a task or thread), else null. */
    final Object kobject;
    boolean active = true;
    int srights;
    int sorights;
    int references = 1;
    /** The port set whose member the port is, or null (XNU's {@code ip_in_pset}). */
    IpcPortSet pset;
    final Deque<MachMessage> messages = new ArrayDeque<>();

    IpcPort(long address, IpcSpace receiver, Object kobject) {
        this.address = address;
        this.receiver = receiver;
        this.kobject = kobject;
    }

    /** Makes the port of a kernel object (a task or thread). */
    interface Factory {
        IpcPort kobject(Object kobject);
    }

    /** The port's kernel address. */
    public long address() {
        return address;
    }

    /** {@code &port->ip_messages}: the message queue shared by the receive right and all send rights. */
    public long mqueue() {
        return address + MQUEUE_OFFSET;
    }

    public boolean isActive() {
        return active;
    }

    /** The space holding the receive right, or null (kernel object, in transit, or dead). */
    public IpcSpace receiver() {
        return receiver;
    }

    /** The task or thread this port represents, or null for an ordinary port. */
    public Object kobject() {
        return kobject;
    }

    /** Send rights outstanding ({@code ip_srights}): one per entry holding send, plus those in messages. */
    public int sendRights() {
        return srights;
    }

    /** The port set the port is a member of, or null. */
    public IpcPortSet portSet() {
        return pset;
    }

    /** Messages queued and not yet received. */
    public int queued() {
        return messages.size();
    }

    @Override
    public String toString() {
        return String.format("port 0x%x", address);
    }
}
