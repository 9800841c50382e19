package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.NONE;

/**
 * Kernel-private IPC structures, the way the port-leak article's kext reached them: by copying
 * ("munging") xnu's private headers so that it could walk {@code proc_t -> task_t ->
 * ipc_space_t -> ipc_entry_t -> ipc_port_t}. XNU exports none of this; a real kext that does it
 * is tied to one kernel build. The simulated kernel has no C structs, so each field read is a
 * function here, named after the field.
 *
 * <p>Stability: experimental (as private as the structures it reads).
 */
public final class IpcPrivate {
    private IpcPrivate() {
    }

    /** The {@code ie_bits} type bits mask. */
    public static final int IE_BITS_TYPE_MASK = 0x001f0000;
    /** The {@code ie_bits} user-reference mask. */
    public static final int IE_BITS_UREFS_MASK = 0x0000ffff;

    /** {@code p->task}: the Mach task of a BSD process. */
    @Kpi(library = NONE)
    public static long proc_task(long p) {
        throw Unlinked.call("proc_task");
    }

    /** {@code task->itk_space}: the task's IPC space. */
    @Kpi(library = NONE)
    public static long task_itk_space(long task) {
        throw Unlinked.call("task_itk_space");
    }

    /** {@code space->is_table_size}: entries in the space's table (entry 0 is always free). */
    @Kpi(library = NONE)
    public static int is_table_size(long space) {
        throw Unlinked.call("is_table_size");
    }

    /** {@code space->is_table[index].ie_object}: the port or port set, or 0 for a free entry or a dead name. */
    @Kpi(library = NONE)
    public static long ie_object(long space, int index) {
        throw Unlinked.call("ie_object");
    }

    /** {@code space->is_table[index].ie_bits}: generation, type bits and user references. */
    @Kpi(library = NONE)
    public static int ie_bits(long space, int index) {
        throw Unlinked.call("ie_bits");
    }

    /**
     * {@code &port->ip_messages}: the message queue a receive right and all its send rights share,
     * the one address that links both ends of a port across tasks.
     */
    @Kpi(library = NONE)
    public static long ip_messages(long port) {
        throw Unlinked.call("ip_messages");
    }

    /**
     * {@code ip_active(port)}: whether the port is alive. A send right's entry keeps its type bits
     * after the port dies until the name is next used, so a reader of {@code ie_bits} checks this,
     * as {@code mach_port_names} does, to tell a dead name.
     */
    @Kpi(library = NONE)
    public static boolean ip_active(long port) {
        throw Unlinked.call("ip_active");
    }
}
