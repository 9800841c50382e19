package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.MACH;
import static dev.kextharness.kpi.KpiLibrary.NONE;
import static dev.kextharness.kpi.KpiLibrary.NOT_EXPORTED;

/**
 * {@code <mach/port.h>} and {@code <mach/mach_port.h>}: Mach port names, rights and the
 * {@code mach_port_*} calls, with XNU's constants (xnu-6153), plus the right dispositions of
 * {@code <mach/message.h>} that {@code mach_port_insert_right} takes.
 *
 * <p>{@link #current_task()} (com.apple.kpi.mach) is the task the kext's code runs for, the
 * kernel's own ({@code kernel_task}) in start and stop. The {@code mach_port_*} calls are user
 * space's MIG interface and kernel-private: xnu-6153 exports none of them to kexts, so a kext that
 * calls one fails to link with kxld's unresolved-symbol lines. They are declared here, with XNU's
 * signatures, for the simulated user processes and so that such a kext compiles and fails as a
 * real one does.
 *
 * <p>Stability: stable.
 */
public final class MachPort {
    private MachPort() {
    }

    /** {@code MACH_PORT_NULL}. */
    public static final int MACH_PORT_NULL = 0;
    /** {@code MACH_PORT_DEAD}, {@code ~0}. */
    public static final int MACH_PORT_DEAD = ~0;
    /** The most user references a name can hold; beyond it they peg. */
    public static final int MACH_PORT_UREFS_MAX = 0xffff;

    public static final int MACH_PORT_RIGHT_SEND = 0;
    public static final int MACH_PORT_RIGHT_RECEIVE = 1;
    public static final int MACH_PORT_RIGHT_SEND_ONCE = 2;
    public static final int MACH_PORT_RIGHT_PORT_SET = 3;
    public static final int MACH_PORT_RIGHT_DEAD_NAME = 4;
    /** Obsolete. */
    public static final int MACH_PORT_RIGHT_LABELH = 5;
    public static final int MACH_PORT_RIGHT_NUMBER = 6;

    public static final int MACH_PORT_TYPE_NONE = 0;
    public static final int MACH_PORT_TYPE_SEND = 0x10000;
    public static final int MACH_PORT_TYPE_RECEIVE = 0x20000;
    public static final int MACH_PORT_TYPE_SEND_ONCE = 0x40000;
    public static final int MACH_PORT_TYPE_PORT_SET = 0x80000;
    public static final int MACH_PORT_TYPE_DEAD_NAME = 0x100000;
    public static final int MACH_PORT_TYPE_LABELH = 0x200000;
    public static final int MACH_PORT_TYPE_SEND_RECEIVE = 0x30000;
    public static final int MACH_PORT_TYPE_SEND_RIGHTS = 0x50000;
    public static final int MACH_PORT_TYPE_PORT_RIGHTS = 0x70000;
    public static final int MACH_PORT_TYPE_PORT_OR_DEAD = 0x170000;
    public static final int MACH_PORT_TYPE_ALL_RIGHTS = 0x1f0000;
    public static final int MACH_PORT_TYPE_DNREQUEST = 0x80000000;
    public static final int MACH_PORT_TYPE_SPREQUEST = 0x40000000;
    public static final int MACH_PORT_TYPE_SPREQUEST_DELAYED = 0x20000000;

    /** {@code <mach/message.h>} right dispositions. */
    public static final int MACH_MSG_TYPE_MOVE_RECEIVE = 16;
    public static final int MACH_MSG_TYPE_MOVE_SEND = 17;
    public static final int MACH_MSG_TYPE_MOVE_SEND_ONCE = 18;
    public static final int MACH_MSG_TYPE_COPY_SEND = 19;
    public static final int MACH_MSG_TYPE_MAKE_SEND = 20;
    public static final int MACH_MSG_TYPE_MAKE_SEND_ONCE = 21;

    /** {@code MACH_PORT_TYPE(right)}: {@code 1 << (right + 16)}. */
    @Kpi(library = NONE, bound = false)
    public static int MACH_PORT_TYPE(int right) {
        return 1 << (right + 16);
    }

    /** {@code MACH_PORT_VALID(name)}: neither NULL nor DEAD. */
    @Kpi(library = NONE, bound = false)
    public static boolean MACH_PORT_VALID(int name) {
        return name != MACH_PORT_NULL && name != MACH_PORT_DEAD;
    }

    /** {@code task_t current_task(void)}: the task this code runs for ({@code kernel_task} in start and stop). */
    @Kpi(library = MACH)
    public static long current_task() {
        throw Unlinked.call("current_task");
    }

    /** {@code kern_return_t mach_port_allocate(task, right, mach_port_name_t *name)}; {@code name[0]} receives the name. */
    @Kpi(library = NOT_EXPORTED)
    public static int mach_port_allocate(long task, int right, int[] name) {
        throw Unlinked.call("mach_port_allocate");
    }

    /** {@code kern_return_t mach_port_deallocate(task, name)}: releases one user reference. */
    @Kpi(library = NOT_EXPORTED)
    public static int mach_port_deallocate(long task, int name) {
        throw Unlinked.call("mach_port_deallocate");
    }

    /** {@code kern_return_t mach_port_mod_refs(task, name, right, delta)}. */
    @Kpi(library = NOT_EXPORTED)
    public static int mach_port_mod_refs(long task, int name, int right, int delta) {
        throw Unlinked.call("mach_port_mod_refs");
    }

    /** {@code kern_return_t mach_port_get_refs(task, name, right, mach_port_urefs_t *refs)}. */
    @Kpi(library = NOT_EXPORTED)
    public static int mach_port_get_refs(long task, int name, int right, int[] refs) {
        throw Unlinked.call("mach_port_get_refs");
    }

    /**
     * {@code kern_return_t mach_port_insert_right(task, name, poly, polyPoly)}: gives {@code task}
     * the right {@code poly} (a name in the caller's own space) under {@code name}, moved, copied
     * or made as {@code polyPoly} ({@code MACH_MSG_TYPE_*}) says.
     */
    @Kpi(library = NOT_EXPORTED)
    public static int mach_port_insert_right(long task, int name, int poly, int polyPoly) {
        throw Unlinked.call("mach_port_insert_right");
    }

    /**
     * {@code kern_return_t mach_port_names(task, &names, &namesCnt, &types, &typesCnt)}: every
     * name in use with its type bits; {@code names[0]} and {@code types[0]} receive the arrays.
     */
    @Kpi(library = NOT_EXPORTED)
    public static int mach_port_names(long task, int[][] names, int[] namesCnt, int[][] types, int[] typesCnt) {
        throw Unlinked.call("mach_port_names");
    }
}
