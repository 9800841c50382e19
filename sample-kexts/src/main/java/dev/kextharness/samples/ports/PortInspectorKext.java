package dev.kextharness.samples.ports;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;
import dev.kextharness.kpi.SysctlOid;
import dev.kextharness.kpi.SysctlReq;

import static dev.kextharness.kpi.IpcPrivate.IE_BITS_TYPE_MASK;
import static dev.kextharness.kpi.IpcPrivate.ie_bits;
import static dev.kextharness.kpi.IpcPrivate.ie_object;
import static dev.kextharness.kpi.IpcPrivate.ip_active;
import static dev.kextharness.kpi.IpcPrivate.ip_messages;
import static dev.kextharness.kpi.IpcPrivate.is_table_size;
import static dev.kextharness.kpi.IpcPrivate.proc_task;
import static dev.kextharness.kpi.IpcPrivate.task_itk_space;
import static dev.kextharness.kpi.Mem.load32;
import static dev.kextharness.kpi.Mem.store32;
import static dev.kextharness.kpi.Mem.store64;
import static dev.kextharness.kpi.OSMalloc.OSFree;
import static dev.kextharness.kpi.OSMalloc.OSMT_DEFAULT;
import static dev.kextharness.kpi.OSMalloc.OSMalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagfree;
import static dev.kextharness.kpi.Proc.proc_find;
import static dev.kextharness.kpi.Proc.proc_rele;
import static dev.kextharness.kpi.Sysctl.CTLFLAG_RD;
import static dev.kextharness.kpi.Sysctl.CTLTYPE_NODE;
import static dev.kextharness.kpi.Sysctl.OID_AUTO;
import static dev.kextharness.kpi.Sysctl.SYSCTL_OUT;
import static dev.kextharness.kpi.Sysctl.SYSCTL_PROC;
import static dev.kextharness.kpi.Sysctl._debug;
import static dev.kextharness.kpi.Sysctl.sysctl_register_oid;
import static dev.kextharness.kpi.Sysctl.sysctl_unregister_oid;
import static dev.kextharness.kpi.Systm.printf;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND_RIGHTS;

/**
 * The port-leak article's kext: a sysctl node {@code debug.port_tracer} that, for the MIB
 * {@code { CTL_DEBUG, <node>, pid, type mask }}, walks the process's IPC space (proc -> task ->
 * ipc_space -> ipc_entry -> ipc_port, through the "munged" private structures) and returns one
 * 16-byte record per matching name: {@code uint32 name, uint32 ie_bits type, uint64 &ip_messages}
 * (0 for a dead name). A send right whose port has died is reported as a dead name, as
 * {@code mach_port_names} reports it, reading only: the kernel rewrites the entry when the name is next used. The message-queue address is the one value both ends of a port share.
 * The reply buffer comes from OSMalloc, as in the article.
 */
@KextBundle(id = "org.chromium.kext.port-inspector", version = "1.1")
public class PortInspectorKext implements Kext {
    /** Bytes per record: name, type bits, message-queue address. */
    public static final int RECORD_SIZE = 16;
    static final int ESRCH = 3;
    static final int EINVAL = 22;

    static final SysctlOid port_tracer = SYSCTL_PROC(_debug, OID_AUTO, "port_tracer", CTLTYPE_NODE | CTLFLAG_RD,
            0, 0, PortInspectorKext::sysctl_port_tracer, "-",
            "per-process port names with the address of each port's message queue");
    static long tag;

    static int sysctl_port_tracer(SysctlOid oidp, long arg1, int arg2, SysctlReq req) {
        if (arg2 != 2) {
            return EINVAL; // { pid, type mask }
        }
        int pid = (int) load32(arg1);
        int mask = (int) load32(arg1 + 4);
        long p = proc_find(pid);
        if (p == 0) {
            return ESRCH;
        }
        long space = task_itk_space(proc_task(p));
        int size = is_table_size(space);
        int count = 0;
        for (int i = 1; i < size; i++) {
            if ((typeOf(space, i) & mask) != 0) {
                count++;
            }
        }
        int error = 0;
        if (count > 0) {
            int bytes = count * RECORD_SIZE;
            long buf = OSMalloc(bytes, tag);
            long at = buf;
            for (int i = 1; i < size; i++) {
                int type = typeOf(space, i);
                if ((type & mask) == 0) {
                    continue;
                }
                long object = type == MACH_PORT_TYPE_DEAD_NAME ? 0 : ie_object(space, i);
                store32(at, (i << 8) | (ie_bits(space, i) >>> 24));
                store32(at + 4, type);
                store64(at + 8, object == 0 ? 0 : ip_messages(object));
                at += RECORD_SIZE;
            }
            error = SYSCTL_OUT(req, buf, bytes);
            OSFree(buf, bytes, tag);
        }
        proc_rele(p);
        return error;
    }

    /**
     * The entry's type bits as {@code mach_port_names} reports them: a send right whose port died is
     * a dead name, though the entry keeps its send bits until the name is next used. Only reads.
     */
    static int typeOf(long space, int index) {
        int type = ie_bits(space, index) & IE_BITS_TYPE_MASK;
        if ((type & MACH_PORT_TYPE_SEND_RIGHTS) != 0 && (type & MACH_PORT_TYPE_RECEIVE) == 0
                && !ip_active(ie_object(space, index))) {
            return MACH_PORT_TYPE_DEAD_NAME;
        }
        return type;
    }

    @Override
    public int start(KmodInfo ki, long d) {
        tag = OSMalloc_Tagalloc("org.chromium.kext.port-inspector", OSMT_DEFAULT);
        sysctl_register_oid(port_tracer);
        printf("port-inspector: registered debug.port_tracer (%d)\n", port_tracer.oid_number);
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        sysctl_unregister_oid(port_tracer);
        OSMalloc_Tagfree(tag);
        return KernReturn.KERN_SUCCESS;
    }
}
