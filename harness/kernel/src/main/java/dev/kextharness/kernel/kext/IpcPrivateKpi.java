package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.ipc.Ipc;
import dev.kextharness.kernel.ipc.IpcPort;
import dev.kextharness.kernel.ipc.IpcPortSet;
import dev.kextharness.kernel.ipc.IpcSpace;
import dev.kextharness.kernel.ipc.Task;
import dev.kextharness.kernel.zalloc.Traps;

/**
 * The munged private IPC structures ({@link dev.kextharness.kpi.IpcPrivate}): one field read a function.
 *
 * <p>Stability: internal.
 */
final class IpcPrivateKpi extends KextKpi {
    IpcPrivateKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long proc_task(long p, int site) {
        enter();
        return procAt(p, site).address();
    }

    public long task_itk_space(long task, int site) {
        enter();
        Task t = taskAt(task);
        if (t == null) {
            throw Traps.pageFault(kernel.panicker(), site, task);
        }
        return t.space().address();
    }

    public int is_table_size(long space, int site) {
        enter();
        return spaceAt(space, site).tableSize();
    }

    public long ie_object(long space, int index, int site) {
        enter();
        Object o = kernel.ipc().entryObject(spaceAt(space, site), index);
        if (o == Ipc.OUT_OF_TABLE) {
            throw Traps.pageFault(kernel.panicker(), site, space + 24L * index);
        }
        return o instanceof IpcPort port ? port.address() : o instanceof IpcPortSet pset ? pset.address() : 0;
    }

    public int ie_bits(long space, int index, int site) {
        enter();
        IpcSpace s = spaceAt(space, site);
        if (index < 0 || index >= s.tableSize()) {
            throw Traps.pageFault(kernel.panicker(), site, space + 24L * index);
        }
        return kernel.ipc().entryBits(s, index);
    }

    public long ip_messages(long port, int site) {
        enter();
        Object o = kernel.ipc().objectAt(port);
        if (o instanceof IpcPort p) {
            return p.mqueue();
        }
        if (o instanceof IpcPortSet s) {
            return s.mqueue();
        }
        throw Traps.pageFault(kernel.panicker(), site, port);
    }

    public boolean ip_active(long port, int site) {
        enter();
        Object o = kernel.ipc().objectAt(port);
        if (o instanceof IpcPort p) {
            return p.isActive();
        }
        throw Traps.pageFault(kernel.panicker(), site, port);
    }

    /** The task whose {@code task_t} this is; a {@code proc_t} or any other address is not a task. */
    private Task taskAt(long task) {
        Task t = kernel.ipc().taskAt(task);
        return t != null && t.address() == task ? t : null;
    }

    private IpcSpace spaceAt(long space, int site) {
        if (kernel.ipc().objectAt(space) instanceof IpcSpace s) {
            return s;
        }
        throw Traps.pageFault(kernel.panicker(), site, space);
    }
}
