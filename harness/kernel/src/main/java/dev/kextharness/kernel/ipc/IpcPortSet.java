package dev.kextharness.kernel.ipc;

/** {@code struct ipc_pset}: a port set, a zone element of {@code ipc port sets}, named by one entry. */
public final class IpcPortSet {
    private final long address;
    boolean active = true;

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
}
