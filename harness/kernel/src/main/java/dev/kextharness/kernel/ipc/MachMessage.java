package dev.kextharness.kernel.ipc;

import java.util.List;

/**
 * A Mach message in a port's queue: its id and the rights it carries, already copied in (in
 * transit, owned by the message). The receiver copies them out into its own space.
 *
 * @param id     {@code msgh_id}
 * @param sender pid of the sending task
 * @param rights the rights carried, in order (the reply port first, if any)
 */
public record MachMessage(int id, int sender, List<Right> rights) {

    /** A right in transit: a port and what kind of right the message holds on it. */
    public record Right(int type, IpcPort port) {
    }
}
