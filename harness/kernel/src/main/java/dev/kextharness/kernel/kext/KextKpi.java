package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.printf.CFormat;

import dev.kextharness.kernel.ipc.Ipc;
import dev.kextharness.kernel.ipc.IpcPort;
import dev.kextharness.kernel.ipc.IpcPortSet;
import dev.kextharness.kernel.ipc.IpcSpace;
import dev.kextharness.kernel.ipc.Task;
import dev.kextharness.kernel.sysctl.SysctlTree;
import dev.kextharness.kernel.zalloc.Traps;
import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Sysctl;
import dev.kextharness.kpi.SysctlHandler;
import dev.kextharness.kpi.SysctlOid;
import dev.kextharness.kpi.SysctlOidList;
import dev.kextharness.kpi.SysctlReq;

import java.nio.charset.StandardCharsets;

/**
 * The kernel side of the KPI for one loaded kext: where each linked call site of that kext lands.
 * For every function of the routed facade classes ({@code Malloc}, {@code OSMalloc},
 * {@code IOLib}, {@code Kalloc}, {@code Systm}, {@code Libkern}, {@code Mem}, and OSAtomic's
 * address forms) there is a method here of the same name and parameters plus a trailing
 * {@code int site}: the call site id the linker bound that call to. Every call first refuses a
 * kernel that has panicked.
 */
public final class KextKpi {
    private final Kernel kernel;
    private final LoadedKext kext;
    private final KextMemory memory;

    public KextKpi(Kernel kernel, LoadedKext kext) {
        this.kernel = kernel;
        this.kext = kext;
        this.memory = new KextMemory(kernel, kext);
    }

    public LoadedKext kext() {
        return kext;
    }

    private void enter() {
        kernel.checkAlive();
    }

    /** {@link #enter()} for an allocating call: true if fault injection fails this one (return NULL). */
    private boolean enterAllocation(int site) {
        enter();
        return kernel.faults().shouldFail(site);
    }

    // <sys/malloc.h>

    public long _MALLOC(long size, int type, int flags, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.malloc().malloc(size, type, flags, site);
    }

    public void _FREE(long addr, int type, int site) {
        enter();
        kernel.malloc().free(addr, type, site);
    }

    public long _MALLOC_ZONE(long size, int type, int flags, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.malloc().mallocZone(size, type, flags, site);
    }

    public void _FREE_ZONE(long elem, long size, int type, int site) {
        enter();
        kernel.malloc().freeZone(elem, size, type, site);
    }

    // <libkern/OSMalloc.h>

    public long OSMalloc_Tagalloc(String name, int flags, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().tagalloc(name, flags, site);
    }

    public void OSMalloc_Tagfree(long tag, int site) {
        enter();
        kernel.osmalloc().tagfree(tag, site);
    }

    public long OSMalloc(int size, long tag, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().osmalloc(size, tag, true, site);
    }

    public long OSMalloc_nowait(int size, long tag, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().osmalloc(size, tag, false, site);
    }

    public long OSMalloc_noblock(int size, long tag, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.osmalloc().osmalloc(size, tag, false, site);
    }

    public void OSFree(long addr, int size, long tag, int site) {
        enter();
        kernel.osmalloc().osfree(addr, size, tag, site);
    }

    // <IOKit/IOLib.h>

    public long IOMalloc(long size, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMalloc(size, site);
    }

    public long IOMallocZero(long size, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMallocZero(size, site);
    }

    public void IOFree(long address, long size, int site) {
        enter();
        kernel.iokit().ioFree(address, size, site);
    }

    public long IOMallocAligned(long size, long alignment, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMallocAligned(size, alignment, site);
    }

    public void IOFreeAligned(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreeAligned(address, size, site);
    }

    public long IOMallocContiguous(long size, long alignment, long[] physicalAddress, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMallocContiguous(size, alignment, physicalAddress, site);
    }

    public void IOFreeContiguous(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreeContiguous(address, size, site);
    }

    public long IOMallocPageable(long size, long alignment, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.iokit().ioMallocPageable(size, alignment, site);
    }

    public void IOFreePageable(long address, long size, int site) {
        enter();
        kernel.iokit().ioFreePageable(address, size, site);
    }

    public void IOLog(String format, Object[] args, int site) {
        enter();
        kernel.log().append(CFormat.format(format, args, addr -> memory.cString(addr, site)));
    }

    // <kern/kalloc.h>

    public long kalloc(long size, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.kalloc().kalloc(size, true, site);
    }

    public long kalloc_noblock(long size, int site) {
        if (enterAllocation(site)) {
            return 0; // an injected failure: NULL
        }
        return kernel.kalloc().kalloc(size, false, site);
    }

    public void kfree(long data, long size, int site) {
        enter();
        kernel.kalloc().kfree(data, size, site);
    }

    // <sys/systm.h>, <kern/debug.h>

    public int printf(String format, Object[] args, int site) {
        enter();
        String text = CFormat.format(format, args, addr -> memory.cString(addr, site));
        kernel.log().append(text);
        return text.length();
    }

    public void panic(String format, Object[] args, int site) {
        enter();
        throw kernel.panicker().kext(site, CFormat.format(format, args, addr -> memory.cString(addr, site)));
    }

    // <libkern/libkern.h>, <string.h>

    public void bzero(long s, long n, int site) {
        enter();
        memory.fill(s, n, 0, site);
    }

    public void bcopy(long src, long dst, long n, int site) {
        enter();
        memory.copy(src, dst, n, site);
    }

    public long memset(long s, int c, long n, int site) {
        enter();
        memory.fill(s, n, c, site);
        return s;
    }

    public long strlcpy(long dst, String src, long size, int site) {
        enter();
        byte[] bytes = src.getBytes(StandardCharsets.UTF_8);
        if (size > 0) {
            memory.storeString(dst, bytes, (int) Math.min(bytes.length, size - 1), site);
        }
        return bytes.length;
    }

    public long strlen(long s, int site) {
        enter();
        return memory.cString(s, site).length();
    }

    // Pointer dereference

    public int load8(long addr, int site) {
        enter();
        return (int) memory.load(addr, 1, site);
    }

    public int load16(long addr, int site) {
        enter();
        return (int) memory.load(addr, 2, site);
    }

    public long load32(long addr, int site) {
        enter();
        return memory.load(addr, 4, site);
    }

    public long load64(long addr, int site) {
        enter();
        return memory.load(addr, 8, site);
    }

    public void store8(long addr, int value, int site) {
        enter();
        memory.store(addr, 1, value, site);
    }

    public void store16(long addr, int value, int site) {
        enter();
        memory.store(addr, 2, value, site);
    }

    public void store32(long addr, long value, int site) {
        enter();
        memory.store(addr, 4, value, site);
    }

    public void store64(long addr, long value, int site) {
        enter();
        memory.store(addr, 8, value, site);
    }

    // <libkern/OSAtomic.h> on a counter in kernel memory (the AtomicLong forms are not routed)

    public long OSIncrementAtomic64(long address, int site) {
        enter();
        return memory.fetchAndAdd(address, 8, 1, site);
    }

    public long OSDecrementAtomic64(long address, int site) {
        enter();
        return memory.fetchAndAdd(address, 8, -1, site);
    }

    public long OSAddAtomic64(long amount, long address, int site) {
        enter();
        return memory.fetchAndAdd(address, 8, amount, site);
    }

    public boolean OSCompareAndSwap64(long oldValue, long newValue, long address, int site) {
        enter();
        return memory.compareAndSwap(address, 8, oldValue, newValue, site);
    }

    public int OSIncrementAtomic(long address, int site) {
        enter();
        return (int) memory.fetchAndAdd(address, 4, 1, site);
    }

    public int OSDecrementAtomic(long address, int site) {
        enter();
        return (int) memory.fetchAndAdd(address, 4, -1, site);
    }

    public int OSAddAtomic(int amount, long address, int site) {
        enter();
        return (int) memory.fetchAndAdd(address, 4, amount, site);
    }

    public boolean OSCompareAndSwap(int oldValue, int newValue, long address, int site) {
        enter();
        return memory.compareAndSwap(address, 4, oldValue, newValue, site);
    }

    // ---------------------------------------------------------------------------------------------
    // Ports and sysctl: <mach/mach_port.h>, <sys/proc.h>, the article's munged IPC structures,
    // <sys/sysctl.h>. Every right a call of the kext's code adds or releases is booked to the kext.

    public int MACH_PORT_TYPE(int right, int site) {
        return 1 << (right + 16);
    }

    public boolean MACH_PORT_VALID(int name, int site) {
        return name != 0 && name != ~0;
    }

    public long current_task(int site) {
        enter();
        return kernel.ipc().currentTask().address();
    }

    public int mach_port_allocate(long task, int right, int[] name, int site) {
        enter();
        Task t = taskAt(task);
        if (t == null || !t.isAlive()) {
            return KernReturn.KERN_INVALID_TASK;
        }
        requireOut(name, site);
        int rc = kernel.ipc().allocate(t.space(), right, name);
        if (rc == KernReturn.KERN_SUCCESS) {
            booked(site, t, name[0], 0);
        }
        return rc;
    }

    public int mach_port_deallocate(long task, int name, int site) {
        enter();
        Task t = taskAt(task);
        if (t == null || !t.isAlive()) {
            return KernReturn.KERN_INVALID_TASK;
        }
        int before = kernel.ipc().bitsOf(t.space(), name);
        Object object = kernel.ipc().objectOf(t.space(), name);
        int rc = kernel.ipc().deallocate(t.space(), name);
        booked(site, t, name, before, object);
        return rc;
    }

    public int mach_port_mod_refs(long task, int name, int right, int delta, int site) {
        enter();
        Task t = taskAt(task);
        if (t == null || !t.isAlive()) {
            return KernReturn.KERN_INVALID_TASK;
        }
        int before = kernel.ipc().bitsOf(t.space(), name);
        Object object = kernel.ipc().objectOf(t.space(), name);
        int rc = kernel.ipc().modRefs(t.space(), name, right, delta);
        booked(site, t, name, before, object);
        return rc;
    }

    public int mach_port_get_refs(long task, int name, int right, int[] refs, int site) {
        enter();
        Task t = taskAt(task);
        if (t == null || !t.isAlive()) {
            return KernReturn.KERN_INVALID_TASK;
        }
        requireOut(refs, site);
        return kernel.ipc().getRefs(t.space(), name, right, refs);
    }

    public int mach_port_insert_right(long task, int name, int poly, int polyPoly, int site) {
        enter();
        Task t = taskAt(task);
        if (t == null || !t.isAlive()) {
            return KernReturn.KERN_INVALID_TASK;
        }
        Task self = kernel.ipc().currentTask();
        int targetBefore = kernel.ipc().bitsOf(t.space(), name);
        int sourceBefore = kernel.ipc().bitsOf(self.space(), poly);
        Object object = kernel.ipc().objectOf(self.space(), poly);
        int rc = kernel.ipc().insertRight(t.space(), name, self.space(), poly, polyPoly);
        if (t != self || name != poly) {
            booked(site, self, poly, sourceBefore, object);
        }
        booked(site, t, name, targetBefore, object);
        return rc;
    }

    public int mach_port_names(long task, int[][] names, int[] namesCnt, int[][] types, int[] typesCnt, int site) {
        enter();
        Task t = taskAt(task);
        if (t == null || !t.isAlive()) {
            return KernReturn.KERN_INVALID_TASK;
        }
        requireOut(names, site);
        requireOut(namesCnt, site);
        requireOut(types, site);
        requireOut(typesCnt, site);
        return kernel.ipc().names(t.space(), names, namesCnt, types, typesCnt);
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

    public SysctlOid SYSCTL_NODE(SysctlOidList parent, int nbr, String name, int access, SysctlHandler handler,
                                 String descr, int site) {
        enter();
        return new SysctlOid(parent, nbr, Sysctl.CTLTYPE_NODE | access, 0, 0, name, handler, "N", descr);
    }

    public SysctlOid SYSCTL_PROC(SysctlOidList parent, int nbr, String name, int access, long ptr, int arg,
                                 SysctlHandler handler, String fmt, String descr, int site) {
        enter();
        return new SysctlOid(parent, nbr, access, ptr, arg, name, handler, fmt, descr);
    }

    public SysctlOid SYSCTL_INT(SysctlOidList parent, int nbr, String name, int access, long ptr, int val,
                                String descr, int site) {
        enter();
        SysctlHandler handler = (oidp, arg1, arg2, req) -> sysctl_handle_int(oidp, arg1, arg2, req, site);
        return new SysctlOid(parent, nbr, Sysctl.CTLTYPE_INT | access, ptr, val, name, handler, "I", descr);
    }

    public void sysctl_register_oid(SysctlOid oidp, int site) {
        enter();
        if (oidp == null) {
            throw Traps.pageFault(kernel.panicker(), site, 0);
        }
        kernel.sysctl().register(oidp, kext.loadTag(), site);
    }

    public void sysctl_unregister_oid(SysctlOid oidp, int site) {
        enter();
        if (oidp == null) {
            throw Traps.pageFault(kernel.panicker(), site, 0);
        }
        kernel.sysctl().unregister(oidp, site);
    }

    public int SYSCTL_OUT(SysctlReq req, long p, long l, int site) {
        enter();
        if (l < 0 || l > Integer.MAX_VALUE) {
            return SysctlTree.EINVAL;
        }
        return kernel.sysctl().out(req, memory.loadBytes(p, (int) l, site));
    }

    public int SYSCTL_IN(SysctlReq req, long p, long l, int site) {
        enter();
        byte[] bytes = l < 0 || l > Integer.MAX_VALUE ? null : kernel.sysctl().in(req, l);
        if (bytes == null) {
            return SysctlTree.EINVAL;
        }
        memory.storeBytes(p, bytes, site);
        return 0;
    }

    public int sysctl_handle_int(SysctlOid oidp, long arg1, int arg2, SysctlReq req, int site) {
        enter();
        long value = arg1 != 0 ? memory.load(arg1, 4, site) : arg2;
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            out[i] = (byte) (value >>> (8 * i));
        }
        int error = kernel.sysctl().out(req, out);
        if (error != 0 || req.newptr == 0) {
            return error;
        }
        if (arg1 == 0) {
            return SysctlTree.EPERM;
        }
        byte[] in = kernel.sysctl().in(req, 4);
        if (in == null) {
            return SysctlTree.EINVAL;
        }
        long v = (in[0] & 0xffL) | (in[1] & 0xffL) << 8 | (in[2] & 0xffL) << 16 | (in[3] & 0xffL) << 24;
        memory.store(arg1, 4, v, site);
        return 0;
    }

    public int sysctl_handle_opaque(SysctlOid oidp, long arg1, int arg2, SysctlReq req, int site) {
        enter();
        int error = SYSCTL_OUT(req, arg1, arg2, site);
        if (error != 0 || req.newptr == 0) {
            return error;
        }
        return SYSCTL_IN(req, arg1, arg2, site);
    }

    private void booked(int site, Task task, int name, int before) {
        booked(site, task, name, before, null);
    }

    /** Books what a call at {@code site} did to a name to this kext. */
    private void booked(int site, Task task, int name, int before, Object objectBefore) {
        int after = kernel.ipc().bitsOf(task.space(), name);
        Object object = kernel.ipc().objectOf(task.space(), name);
        kernel.ipc().kextRights().changed(kext.loadTag(), site, task, name, before, after,
                object != null ? object : objectBefore);
    }

    private void requireOut(Object out, int site) {
        if (out == null || (out instanceof Object[] a && a.length == 0) || (out instanceof int[] i && i.length == 0)) {
            throw Traps.pageFault(kernel.panicker(), site, 0); // a NULL out-parameter
        }
    }

    /** The task whose {@code task_t} this is; a {@code proc_t} or any other address is not a task. */
    private Task taskAt(long task) {
        Task t = kernel.ipc().taskAt(task);
        return t != null && t.address() == task ? t : null;
    }

    private Task procAt(long p, int site) {
        Task t = kernel.ipc().taskAt(p);
        if (t == null || t.procAddress() != p) {
            throw Traps.pageFault(kernel.panicker(), site, p);
        }
        return t;
    }

    private IpcSpace spaceAt(long space, int site) {
        if (kernel.ipc().objectAt(space) instanceof IpcSpace s) {
            return s;
        }
        throw Traps.pageFault(kernel.panicker(), site, space);
    }
}
