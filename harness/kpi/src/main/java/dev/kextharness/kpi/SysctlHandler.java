package dev.kextharness.kpi;

/**
 * A sysctl handler: {@code int h(struct sysctl_oid *oidp, void *arg1, int arg2, struct sysctl_req *req)}
 * ({@code SYSCTL_HANDLER_ARGS}). For a {@code CTLTYPE_NODE} OID with a handler, {@code arg1} is the
 * kernel address of the rest of the MIB (ints) and {@code arg2} their count. Returns 0 or an errno.
 *
 * <p>Stability: stable.
 */
@FunctionalInterface
public interface SysctlHandler {
    int handle(SysctlOid oidp, long arg1, int arg2, SysctlReq req);
}
