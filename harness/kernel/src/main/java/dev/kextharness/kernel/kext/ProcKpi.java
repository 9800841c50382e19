package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.ipc.Task;

/**
 * {@code <sys/proc.h>} ({@link dev.kextharness.kpi.Proc}): BSD processes.
 *
 * <p>Stability: internal.
 */
final class ProcKpi extends KextKpi {
    ProcKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long proc_find(int pid, int site) {
        enter();
        Task t = kernel.ipc().task(pid);
        return t == null || pid == 0 ? 0 : t.procAddress();
    }

    public int proc_rele(long p, int site) {
        enter();
        procAt(p, site);
        return 0;
    }

    public int proc_pid(long p, int site) {
        enter();
        return procAt(p, site).pid();
    }

    public int proc_selfpid(int site) {
        enter();
        return kernel.ipc().currentTask().pid();
    }
}
