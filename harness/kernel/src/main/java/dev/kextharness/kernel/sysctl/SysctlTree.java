package dev.kextharness.kernel.sysctl;

import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.zalloc.Traps;
import dev.kextharness.kpi.SysctlHandler;
import dev.kextharness.kpi.SysctlOid;
import dev.kextharness.kpi.SysctlOidList;
import dev.kextharness.kpi.SysctlReq;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

import static dev.kextharness.kpi.Sysctl.CTLFLAG_KERN;
import static dev.kextharness.kpi.Sysctl.CTLFLAG_RD;
import static dev.kextharness.kpi.Sysctl.CTLFLAG_RW;
import static dev.kextharness.kpi.Sysctl.CTLFLAG_WR;
import static dev.kextharness.kpi.Sysctl.CTLTYPE;
import static dev.kextharness.kpi.Sysctl.CTLTYPE_NODE;
import static dev.kextharness.kpi.Sysctl.CTLTYPE_STRING;
import static dev.kextharness.kpi.Sysctl.CTL_DEBUG;
import static dev.kextharness.kpi.Sysctl.CTL_HW;
import static dev.kextharness.kpi.Sysctl.CTL_KERN;
import static dev.kextharness.kpi.Sysctl.CTL_MACHDEP;
import static dev.kextharness.kpi.Sysctl.CTL_MAXNAME;
import static dev.kextharness.kpi.Sysctl.CTL_NET;
import static dev.kextharness.kpi.Sysctl.CTL_USER;
import static dev.kextharness.kpi.Sysctl.CTL_VFS;
import static dev.kextharness.kpi.Sysctl.CTL_VM;
import static dev.kextharness.kpi.Sysctl.OID_AUTO;
import static dev.kextharness.kpi.Sysctl.OID_AUTO_START;

/**
 * The sysctl tree ({@code bsd/kern/kern_newsysctl.c} of xnu-6153): the top-level nodes, OIDs that
 * kexts register and unregister, and {@code sysctl_root}'s walk of a MIB to a handler with an
 * old/new request. Who registered each OID is remembered, so an OID left registered by an
 * unloaded kext is found; calling it then page-faults, as the dangling handler would in XNU.
 */
public final class SysctlTree {
    public static final int ENOENT = 2;
    public static final int EPERM = 1;
    public static final int ENOMEM = 12;
    public static final int EFAULT = 14;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;

    private static final String SOURCE = "bsd/kern/kern_newsysctl.c";

    /** One registered OID: the declaration, who registered it and where. */
    public record Registration(SysctlOid oid, int loadTag, int site, String path, String mib) {
    }

    private final Panicker panicker;
    private final IntPredicate kextLoaded;
    private final List<SysctlOid> top = new ArrayList<>();
    private final Map<Object, List<SysctlOid>> lists = new IdentityHashMap<>();
    private final Map<SysctlOid, Registration> registered = new IdentityHashMap<>();
    /** The transfer buffers of the calls in flight, by request. */
    private final Map<SysctlReq, Transfer> inFlight = java.util.Collections.synchronizedMap(new IdentityHashMap<>());
    /**
     * {@code sysctl_geometry_lock}: calls share it, handlers included, so that an OID cannot be
     * unregistered while its handler runs; registering and unregistering take it alone.
     */
    private final java.util.concurrent.locks.ReadWriteLock geometry = new java.util.concurrent.locks.ReentrantReadWriteLock();

    /**
     * @param kextLoaded whether the kext with a load tag is still loaded (tag 0 is the kernel)
     */
    public SysctlTree(Panicker panicker, IntPredicate kextLoaded, String osrelease) {
        this.panicker = panicker;
        this.kextLoaded = kextLoaded;
        String[] names = {"kern", "vm", "vfs", "net", "debug", "hw", "machdep", "user"};
        int[] numbers = {CTL_KERN, CTL_VM, CTL_VFS, CTL_NET, CTL_DEBUG, CTL_HW, CTL_MACHDEP, CTL_USER};
        for (int i = 0; i < names.length; i++) {
            SysctlOid node = new SysctlOid(null, numbers[i], CTLTYPE_NODE | CTLFLAG_RW, 0, 0, names[i], null, "N", "");
            top.add(node);
            lists.put(names[i], new ArrayList<>());
            lists.put(node, lists.get(names[i]));
        }
        kernelString(dev.kextharness.kpi.Sysctl._kern, 1, "ostype", "Darwin");
        kernelString(dev.kextharness.kpi.Sysctl._kern, 2, "osrelease", osrelease);
    }

    private void kernelString(SysctlOidList parent, int number, String name, String value) {
        SysctlHandler handler = (oidp, arg1, arg2, req) -> out(req, (value + "\0").getBytes(StandardCharsets.UTF_8));
        register(new SysctlOid(parent, number, CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_KERN, 0, 0, name, handler, "A", ""),
                0, -1);
    }

    // ---------------------------------------------------------------------------------------------
    // sysctl_register_oid / sysctl_unregister_oid

    /**
     * {@code sysctl_register_oid}: numbers an OID_AUTO OID {@code max(OID_AUTO_START, highest
     * sibling) + 1} and writes the number back; a number already taken in the parent panics.
     */
    public void register(SysctlOid oid, int loadTag, int site) {
        geometry.writeLock().lock();
        try {
            registerLocked(oid, loadTag, site);
        } finally {
            geometry.writeLock().unlock();
        }
    }

    private void registerLocked(SysctlOid oid, int loadTag, int site) {
        List<SysctlOid> siblings = siblings(oid.oid_parent);
        if (oid.oid_number == OID_AUTO) {
            int n = OID_AUTO_START;
            for (SysctlOid s : siblings) {
                n = Math.max(n, s.oid_number);
            }
            oid.oid_number = n + 1;
        } else {
            for (SysctlOid s : siblings) {
                if (s.oid_number == oid.oid_number) {
                    throw panicker.kernel(SOURCE, 250, site, CFormat.format(
                            "attempting to register a sysctl at previously registered slot : %d", oid.oid_number));
                }
            }
        }
        int at = 0;
        while (at < siblings.size() && siblings.get(at).oid_number < oid.oid_number) {
            at++;
        }
        siblings.add(at, oid);
        if ((oid.oid_kind & CTLTYPE) == CTLTYPE_NODE) {
            lists.putIfAbsent(oid, new ArrayList<>());
        }
        registered.put(oid, new Registration(oid, loadTag, site, path(oid), mibString(oid)));
    }

    /**
     * {@code sysctl_unregister_oid}: an OID that is not in its parent's list walks off the end of
     * the list, a NULL dereference in XNU: a page-fault panic here too.
     */
    public void unregister(SysctlOid oid, int site) {
        geometry.writeLock().lock();
        try {
            unregisterLocked(oid, site);
        } finally {
            geometry.writeLock().unlock();
        }
    }

    private void unregisterLocked(SysctlOid oid, int site) {
        List<SysctlOid> siblings = siblings(oid.oid_parent);
        if (!siblings.remove(oid)) {
            KernelPanic p = Traps.pageFault(panicker, site, 0);
            throw p;
        }
        registered.remove(oid);
    }

    private List<SysctlOid> siblings(SysctlOidList parent) {
        if (parent == null) {
            throw new IllegalArgumentException("a sysctl OID needs a parent list, such as _debug");
        }
        Object key = parent.rootName() != null ? parent.rootName() : parent.owner();
        List<SysctlOid> list = lists.get(key);
        if (list == null) {
            if (parent.rootName() != null) {
                throw new IllegalArgumentException("no top-level sysctl node " + parent.rootName());
            }
            list = new ArrayList<>();
            lists.put(key, list); // a node's static children list exists before the node is registered
        }
        return list;
    }

    /** OIDs registered by the kext with this load tag, still in the tree. */
    public List<Registration> registeredBy(int loadTag) {
        geometry.readLock().lock();
        try {
            return registeredByLocked(loadTag);
        } finally {
            geometry.readLock().unlock();
        }
    }

    private List<Registration> registeredByLocked(int loadTag) {
        List<Registration> out = new ArrayList<>();
        for (Registration r : registered.values()) {
            if (r.loadTag() == loadTag) {
                out.add(r);
            }
        }
        return out;
    }

    /** Every registered OID. */
    public List<Registration> registrations() {
        geometry.readLock().lock();
        try {
            return registrationsLocked();
        } finally {
            geometry.readLock().unlock();
        }
    }

    private List<Registration> registrationsLocked() {
        return List.copyOf(registered.values());
    }

    // ---------------------------------------------------------------------------------------------
    // Names

    /** The dotted name of an OID ({@code debug.port_tracer}). */
    public String path(SysctlOid oid) {
        List<String> parts = new ArrayList<>();
        for (SysctlOid o = oid; o != null; o = parentOf(o)) {
            parts.add(0, o.oid_name);
        }
        return String.join(".", parts);
    }

    private String mibString(SysctlOid oid) {
        List<String> parts = new ArrayList<>();
        for (SysctlOid o = oid; o != null; o = parentOf(o)) {
            parts.add(0, Integer.toString(o.oid_number));
        }
        return String.join(".", parts);
    }

    private SysctlOid parentOf(SysctlOid oid) {
        if (oid.oid_parent == null) {
            return null;
        }
        if (oid.oid_parent.rootName() != null) {
            for (SysctlOid t : top) {
                if (t.oid_name.equals(oid.oid_parent.rootName())) {
                    return t;
                }
            }
        }
        return oid.oid_parent.owner();
    }

    /** {@code name2oid}: the MIB of a dotted name, or null if some component is not registered. */
    public int[] nameToMib(String name) {
        if (name == null || name.isEmpty()) {
            return null;
        }
        String[] parts = name.split("\\.", -1);
        if (parts.length > CTL_MAXNAME) {
            return null;
        }
        int[] mib = new int[parts.length];
        List<SysctlOid> level = top;
        for (int i = 0; i < parts.length; i++) {
            SysctlOid found = null;
            for (SysctlOid o : level) {
                if (o.oid_name.equals(parts[i])) {
                    found = o;
                    break;
                }
            }
            if (found == null) {
                return null;
            }
            mib[i] = found.oid_number;
            boolean node = (found.oid_kind & CTLTYPE) == CTLTYPE_NODE;
            if (i < parts.length - 1) {
                if (!node || found.oid_handler != null) {
                    return null;
                }
                level = lists.getOrDefault(found, List.of());
            }
        }
        return mib;
    }

    // ---------------------------------------------------------------------------------------------
    // sysctl_root

    /** Where one call's old and new values go: the caller's buffers, as copyout/copyin would reach them. */
    static final class Transfer {
        final byte[] oldBuffer;
        final byte[] newBuffer;

        Transfer(byte[] oldBuffer, byte[] newBuffer) {
            this.oldBuffer = oldBuffer;
            this.newBuffer = newBuffer;
        }
    }

    /** The outcome of a call: an errno (0 on success) and the bytes produced ({@code oldidx}). */
    public record Result(int errno, long oldidx) {
    }

    /** Calls a handler the way {@link #call} found it; the kernel side supplies the MIB copy for node handlers. */
    public interface Invoker {
        int invoke(Registration target, SysctlHandler handler, int[] rest, SysctlReq req);
    }

    /**
     * {@code userland_sysctl} then {@code sysctl_root}: walks the MIB, checks write permission,
     * calls the handler with a request for the caller's buffers. A dangling handler (its kext
     * unloaded) page-faults.
     */
    public Result call(int[] name, int namelen, long proc, byte[] oldp, long oldlen, byte[] newp, long newlen,
                       Invoker invoker) {
        geometry.readLock().lock();
        try {
            return callLocked(name, namelen, proc, oldp, oldlen, newp, newlen, invoker);
        } finally {
            geometry.readLock().unlock();
        }
    }

    private Result callLocked(int[] name, int namelen, long proc, byte[] oldp, long oldlen, byte[] newp, long newlen,
                              Invoker invoker) {
        if (namelen < 2 || namelen > CTL_MAXNAME || name == null || name.length < namelen) {
            return new Result(EINVAL, 0);
        }
        List<SysctlOid> level = top;
        SysctlOid found = null;
        int indx = 0;
        walk:
        while (indx < namelen) {
            for (SysctlOid o : level) {
                if (o.oid_number == name[indx]) {
                    indx++;
                    if ((o.oid_kind & CTLTYPE) == CTLTYPE_NODE) {
                        if (o.oid_handler != null) {
                            found = o;
                            break walk;
                        }
                        if (indx == namelen) {
                            return new Result(ENOENT, 0);
                        }
                        level = lists.getOrDefault(o, List.of());
                        continue walk;
                    }
                    if (indx != namelen) {
                        return new Result(EISDIR, 0);
                    }
                    found = o;
                    break walk;
                }
            }
            return new Result(ENOENT, 0);
        }
        if (found == null) {
            return new Result(ENOENT, 0);
        }
        if (newp != null && (found.oid_kind & CTLFLAG_WR) == 0) {
            return new Result(EPERM, 0);
        }
        if (found.oid_handler == null) {
            return new Result(EINVAL, 0);
        }
        Registration reg = registered.get(found);
        SysctlReq req = new SysctlReq(proc, oldp == null ? 0 : USER_OLD, oldp == null ? 0 : oldlen,
                newp == null ? 0 : USER_NEW, newp == null ? 0 : newlen);
        inFlight.put(req, new Transfer(oldp, newp));
        int error;
        try {
            if (reg != null && reg.loadTag() != 0 && !kextLoaded.test(reg.loadTag())) {
                throw Traps.pageFault(panicker, reg.site(), danglingAddress(reg));
            }
            int[] rest = new int[namelen - indx];
            System.arraycopy(name, indx, rest, 0, rest.length);
            error = (found.oid_kind & CTLTYPE) == CTLTYPE_NODE
                    ? invoker.invoke(reg, found.oid_handler, rest, req)
                    : invoker.invoke(reg, found.oid_handler, null, req);
        } finally {
            inFlight.remove(req);
        }
        if (error == 0 && oldp != null && req.oldidx > oldlen) {
            error = ENOMEM;
        }
        return new Result(error, req.oldidx);
    }

    /** User address the harness gives the caller's old buffer (x86_64 user stack region). */
    static final long USER_OLD = 0x00007ffee3b00000L;
    static final long USER_NEW = 0x00007ffee3c00000L;

    private static long danglingAddress(Registration reg) {
        return 0xffffff7f80000000L | ((long) reg.loadTag() << 20) | 0x1000;
    }

    /**
     * {@code sysctl_old_user}: copies what fits into the caller's buffer and counts every byte in
     * {@code oldidx}; ENOMEM once the buffer is short. With no buffer it only counts.
     */
    public int out(SysctlReq req, byte[] bytes) {
        Transfer t = inFlight.get(req);
        if (t == null) {
            return EINVAL;
        }
        long l = bytes.length;
        long i = 0;
        if (req.oldptr != 0) {
            i = l;
            if (req.oldlen <= req.oldidx) {
                i = 0;
            } else if (i > req.oldlen - req.oldidx) {
                i = req.oldlen - req.oldidx;
            }
            if (i > 0) {
                System.arraycopy(bytes, 0, t.oldBuffer, (int) req.oldidx, (int) i);
            }
        }
        req.oldidx += l;
        if (req.oldptr != 0 && i != l) {
            return ENOMEM;
        }
        return 0;
    }

    /** {@code sysctl_new_user}: the next {@code l} bytes of the new value, or null (EINVAL) past its end. */
    public byte[] in(SysctlReq req, long l) {
        Transfer t = inFlight.get(req);
        if (t == null || req.newptr == 0 || req.newlen - req.newidx < l) {
            return null;
        }
        byte[] out = new byte[(int) l];
        System.arraycopy(t.newBuffer, (int) req.newidx, out, 0, (int) l);
        req.newidx += l;
        return out;
    }
}
