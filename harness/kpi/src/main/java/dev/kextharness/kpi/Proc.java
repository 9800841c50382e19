package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.BSD;

/**
 * {@code <sys/proc.h>}: finding BSD processes ({@code proc_t}, a kernel address) from a kext.
 * {@code proc_find} takes a reference that {@code proc_rele} must drop.
 *
 * <p>Stability: stable.
 */
public final class Proc {
    private Proc() {
    }

    /** {@code proc_t proc_find(int pid)}: the process with a reference held, or 0 (PROC_NULL). */
    @Kpi(library = BSD)
    public static long proc_find(int pid) {
        throw Unlinked.call("proc_find");
    }

    /** {@code int proc_rele(proc_t p)}: drops the reference {@code proc_find} took. */
    @Kpi(library = BSD)
    public static int proc_rele(long p) {
        throw Unlinked.call("proc_rele");
    }

    /** {@code int proc_pid(proc_t p)}. */
    @Kpi(library = BSD)
    public static int proc_pid(long p) {
        throw Unlinked.call("proc_pid");
    }

    /** {@code int proc_selfpid(void)}: the pid of the process the current thread belongs to. */
    @Kpi(library = BSD)
    public static int proc_selfpid() {
        throw Unlinked.call("proc_selfpid");
    }
}
