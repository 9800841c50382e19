package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.ipc.Task;
import dev.kextharness.kernel.zalloc.Traps;

/**
 * The kernel side of one KPI header for one loaded kext: where the linked calls of that kext to
 * the header's facade class land. There is one subclass per facade class ({@code MallocKpi} for
 * {@code Malloc}, ...), and in it, for every bound function the contract declares, a method of
 * the same name and parameters plus a trailing {@code int site}: the call site id the linker bound
 * that call to ({@link KpiContract} pairs them and a test proves it one to one). Every call first
 * refuses a kernel that has panicked; fault injection wraps the failable ones at bind time.
 *
 * <p>Stability: internal.
 */
abstract class KextKpi {
    final KextHost kernel;
    final LoadedKext kext;
    final KextMemory memory;

    KextKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        this.kernel = kernel;
        this.kext = kext;
        this.memory = memory;
    }

    final void enter() {
        kernel.checkAlive();
    }

    /** The task whose {@code proc_t} this is; page-faults on any other address. */
    final Task procAt(long p, int site) {
        Task t = kernel.ipc().taskAt(p);
        if (t == null || t.procAddress() != p) {
            throw Traps.pageFault(kernel.panicker(), site, p);
        }
        return t;
    }
}
