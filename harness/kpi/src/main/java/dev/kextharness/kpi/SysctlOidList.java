package dev.kextharness.kpi;

/**
 * {@code struct sysctl_oid_list}: the children of a node. The roots ({@link Sysctl#_debug},
 * {@link Sysctl#_kern}) stand for the kernel's own lists; a kext's node has the list
 * {@link SysctlOid#children()}.
 *
 * <p>Stability: stable.
 */
public final class SysctlOidList {
    private final String rootName;
    private final SysctlOid owner;

    private SysctlOidList(String rootName, SysctlOid owner) {
        this.rootName = rootName;
        this.owner = owner;
    }

    static SysctlOidList root(String name) {
        return new SysctlOidList(name, null);
    }

    static SysctlOidList of(SysctlOid node) {
        return new SysctlOidList(null, node);
    }

    /** The top-level node this list is the children of ({@code "debug"}), or null for a kext's node. */
    public String rootName() {
        return rootName;
    }

    /** The node this list is the children of, or null for a top-level list. */
    public SysctlOid owner() {
        return owner;
    }

    @Override
    public String toString() {
        return rootName != null ? "sysctl__" + rootName + "_children" : "children of " + owner.oid_name;
    }
}
