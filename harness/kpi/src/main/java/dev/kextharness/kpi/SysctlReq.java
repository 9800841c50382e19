package dev.kextharness.kpi;

/**
 * {@code struct sysctl_req}: one sysctl call as its handler sees it. {@code oldptr} is the user
 * address of the caller's buffer, 0 when the caller only asks for the size; {@code oldidx} counts
 * the bytes {@code SYSCTL_OUT} has produced so far (copied or not).
 *
 * <p>Stability: stable.
 */
public final class SysctlReq {
    /** The calling process ({@code proc_t}). */
    public final long p;
    public final long oldptr;
    public final long oldlen;
    public long oldidx;
    public final long newptr;
    public final long newlen;
    public long newidx;

    public SysctlReq(long p, long oldptr, long oldlen, long newptr, long newlen) {
        this.p = p;
        this.oldptr = oldptr;
        this.oldlen = oldlen;
        this.newptr = newptr;
        this.newlen = newlen;
    }
}
