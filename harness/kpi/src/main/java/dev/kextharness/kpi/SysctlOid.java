package dev.kextharness.kpi;

/**
 * {@code struct sysctl_oid}, as the {@code SYSCTL_*} functions of {@link Sysctl} declare it.
 * Registration writes the number the kernel chose back into {@link #oid_number}, as XNU does
 * for {@code OID_AUTO}, so registering the same OID twice hits the slot it already holds.
 *
 * <p>Stability: stable.
 */
public final class SysctlOid {
    public final SysctlOidList oid_parent;
    public int oid_number;
    public final int oid_kind;
    public final long oid_arg1;
    public final int oid_arg2;
    public final String oid_name;
    public final SysctlHandler oid_handler;
    public final String oid_fmt;
    public final String oid_descr;
    public final int oid_version = Sysctl.SYSCTL_OID_VERSION;
    private final SysctlOidList children;

    public SysctlOid(SysctlOidList parent, int number, int kind, long arg1, int arg2, String name,
                     SysctlHandler handler, String fmt, String descr) {
        this.oid_parent = parent;
        this.oid_number = number;
        this.oid_kind = kind;
        this.oid_arg1 = arg1;
        this.oid_arg2 = arg2;
        this.oid_name = name;
        this.oid_handler = handler;
        this.oid_fmt = fmt;
        this.oid_descr = descr;
        this.children = SysctlOidList.of(this);
    }

    /** {@code sysctl_<parent>_<name>_children}: the list a node's children are declared in. */
    public SysctlOidList children() {
        return children;
    }

    @Override
    public String toString() {
        return "sysctl_oid " + oid_name + " (" + oid_number + ")";
    }
}
