package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.BSD;
import static dev.kextharness.kpi.KpiLibrary.NONE;

/**
 * {@code <sys/sysctl.h>}: declaring, registering and serving sysctl OIDs from a kext. The
 * {@code SYSCTL_*} macros, which in C define a static {@code struct sysctl_oid}, are functions here
 * that return the {@link SysctlOid}; the kext keeps it in a static field and registers it in start:
 *
 * <pre>{@code
 * static final SysctlOid oid = SYSCTL_PROC(_debug, OID_AUTO, "port_tracer", CTLTYPE_NODE | CTLFLAG_RD,
 *         0, 0, PortKext::handler, "-", "mqueue addresses of a process's ports");
 * ...
 * sysctl_register_oid(oid);    // in start
 * sysctl_unregister_oid(oid);  // in stop
 * }</pre>
 *
 * A handler answers through {@link #SYSCTL_OUT} and reads through {@link #SYSCTL_IN}; called with
 * {@code req.oldptr == 0} it only reports the size it would write (the two-call pattern).
 *
 * <p>Stability: stable.
 */
public final class Sysctl {
    private Sysctl() {
    }

    public static final int CTL_UNSPEC = 0;
    public static final int CTL_KERN = 1;
    public static final int CTL_VM = 2;
    public static final int CTL_VFS = 3;
    public static final int CTL_NET = 4;
    public static final int CTL_DEBUG = 5;
    public static final int CTL_HW = 6;
    public static final int CTL_MACHDEP = 7;
    public static final int CTL_USER = 8;
    public static final int CTL_MAXNAME = 12;

    public static final int CTLTYPE = 0xf;
    public static final int CTLTYPE_NODE = 1;
    public static final int CTLTYPE_INT = 2;
    public static final int CTLTYPE_STRING = 3;
    public static final int CTLTYPE_QUAD = 4;
    public static final int CTLTYPE_OPAQUE = 5;
    public static final int CTLTYPE_STRUCT = CTLTYPE_OPAQUE;

    public static final int CTLFLAG_RD = 0x80000000;
    public static final int CTLFLAG_WR = 0x40000000;
    public static final int CTLFLAG_RW = CTLFLAG_RD | CTLFLAG_WR;
    public static final int CTLFLAG_NOLOCK = 0x20000000;
    public static final int CTLFLAG_ANYBODY = 0x10000000;
    public static final int CTLFLAG_SECURE = 0x08000000;
    public static final int CTLFLAG_MASKED = 0x04000000;
    public static final int CTLFLAG_NOAUTO = 0x02000000;
    public static final int CTLFLAG_KERN = 0x01000000;
    public static final int CTLFLAG_LOCKED = 0x00800000;
    public static final int CTLFLAG_OID2 = 0x00400000;

    /** Let the kernel number the OID: {@code max(OID_AUTO_START, highest sibling) + 1}. */
    public static final int OID_AUTO = -1;
    public static final int OID_AUTO_START = 100;
    public static final int SYSCTL_OID_VERSION = 1;

    /** {@code sysctl__debug_children}, the list {@code SYSCTL_*(_debug, ...)} adds to (CTL_DEBUG). */
    public static final SysctlOidList _debug = SysctlOidList.root("debug");
    /** {@code sysctl__kern_children} (CTL_KERN). */
    public static final SysctlOidList _kern = SysctlOidList.root("kern");

    /** {@code SYSCTL_NODE(parent, nbr, name, access, handler, descr)}: an interior node (fmt "N"). */
    @Kpi(library = NONE)
    public static SysctlOid SYSCTL_NODE(SysctlOidList parent, int nbr, String name, int access,
                                        SysctlHandler handler, String descr) {
        throw Unlinked.call("SYSCTL_NODE");
    }

    /** {@code SYSCTL_PROC(parent, nbr, name, access, ptr, arg, handler, fmt, descr)}. */
    @Kpi(library = NONE)
    public static SysctlOid SYSCTL_PROC(SysctlOidList parent, int nbr, String name, int access, long ptr, int arg,
                                        SysctlHandler handler, String fmt, String descr) {
        throw Unlinked.call("SYSCTL_PROC");
    }

    /** {@code SYSCTL_INT(parent, nbr, name, access, ptr, val, descr)}: an int at kernel address {@code ptr} (or {@code val} if 0). */
    @Kpi(library = NONE)
    public static SysctlOid SYSCTL_INT(SysctlOidList parent, int nbr, String name, int access, long ptr, int val,
                                       String descr) {
        throw Unlinked.call("SYSCTL_INT");
    }

    /** {@code void sysctl_register_oid(struct sysctl_oid *oidp)}. */
    @Kpi(library = BSD)
    public static void sysctl_register_oid(SysctlOid oidp) {
        throw Unlinked.call("sysctl_register_oid");
    }

    /** {@code void sysctl_unregister_oid(struct sysctl_oid *oidp)}. */
    @Kpi(library = BSD)
    public static void sysctl_unregister_oid(SysctlOid oidp) {
        throw Unlinked.call("sysctl_unregister_oid");
    }

    /** {@code SYSCTL_OUT(req, p, l)}: copies {@code l} bytes at kernel address {@code p} out; 0 or an errno. */
    @Kpi(library = NONE)
    public static int SYSCTL_OUT(SysctlReq req, long p, long l) {
        throw Unlinked.call("SYSCTL_OUT");
    }

    /** {@code SYSCTL_IN(req, p, l)}: copies {@code l} bytes of the new value in to kernel address {@code p}. */
    @Kpi(library = NONE)
    public static int SYSCTL_IN(SysctlReq req, long p, long l) {
        throw Unlinked.call("SYSCTL_IN");
    }

    /** {@code int sysctl_handle_int(oidp, arg1, arg2, req)}: the int at {@code arg1}, or {@code arg2} if arg1 is 0. */
    @Kpi(library = BSD)
    public static int sysctl_handle_int(SysctlOid oidp, long arg1, int arg2, SysctlReq req) {
        throw Unlinked.call("sysctl_handle_int");
    }

    /** {@code int sysctl_handle_opaque(oidp, arg1, arg2, req)}: {@code arg2} bytes at {@code arg1}. */
    @Kpi(library = BSD)
    public static int sysctl_handle_opaque(SysctlOid oidp, long arg1, int arg2, SysctlReq req) {
        throw Unlinked.call("sysctl_handle_opaque");
    }
}
