package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.sysctl.SysctlTree;
import dev.kextharness.kernel.zalloc.Traps;
import dev.kextharness.kpi.Sysctl;
import dev.kextharness.kpi.SysctlHandler;
import dev.kextharness.kpi.SysctlOid;
import dev.kextharness.kpi.SysctlOidList;
import dev.kextharness.kpi.SysctlReq;

/**
 * {@code <sys/sysctl.h>} ({@link dev.kextharness.kpi.Sysctl}): declaring, registering and serving OIDs.
 *
 * <p>Stability: internal.
 */
final class SysctlKpi extends KextKpi {
    SysctlKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
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
        byte[] bytes = new byte[(int) l];
        if (l > 0) {
            memory.check(p, l, false, site);
            for (int i = 0; i < l; i++) {
                bytes[i] = (byte) kernel.memory().load8(p + i);
            }
        }
        return kernel.sysctl().out(req, bytes);
    }

    public int SYSCTL_IN(SysctlReq req, long p, long l, int site) {
        enter();
        byte[] bytes = l < 0 || l > Integer.MAX_VALUE ? null : kernel.sysctl().in(req, l);
        if (bytes == null) {
            return SysctlTree.EINVAL;
        }
        memory.check(p, l, true, site);
        for (int i = 0; i < l; i++) {
            kernel.memory().store8(p + i, bytes[i]);
        }
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
}
