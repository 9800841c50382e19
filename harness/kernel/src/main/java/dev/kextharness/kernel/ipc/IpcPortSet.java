package dev.kextharness.kernel.ipc;

import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * {@code struct ipc_pset}: a port set, a zone element of {@code ipc port sets}, named by one entry.
 * Its members are the ports whose receive rights {@code mach_port_move_member} put in it; a port
 * is in at most one set ({@link IpcPort#portSet()}).
 */
public final class IpcPortSet {
    private final long address;
    boolean active = true;
    /** The member ports, in the order they joined ({@code ips_wqset}'s links). */
    final Set<IpcPort> members = new LinkedHashSet<>();

    IpcPortSet(long address) {
        this.address = address;
    }

    public long address() {
        return address;
    }

    /** {@code &pset->ips_messages}: the set's own wait queue. */
    public long mqueue() {
        return address + IpcPort.MQUEUE_OFFSET;
    }

    /** The ports in the set now. */
    public Set<IpcPort> members() {
        return Collections.unmodifiableSet(members);
    }
}
