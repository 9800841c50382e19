package dev.kextharness.kernel.kext;

import java.util.Objects;

/**
 * How one kext is loaded: a leak policy of its own (overriding the kernel's) and the {@code data}
 * pointer its start and stop routines receive. Immutable: each {@code with...} returns a new
 * instance, so a base can be shared and varied.
 *
 * <p>Stability: stable.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public final class LoadOptions {
    private static final LoadOptions DEFAULTS = new LoadOptions(null, 0);

    private final LeakPolicy leakPolicy;
    private final long data;

    private LoadOptions(LeakPolicy leakPolicy, long data) {
        this.leakPolicy = leakPolicy;
        this.data = data;
    }

    /** The kernel's leak policy, and a NULL {@code data} pointer. */
    public static LoadOptions defaults() {
        return DEFAULTS;
    }

    /** A leak policy for this kext only; null means the kernel's own. */
    public LoadOptions withLeakPolicy(LeakPolicy policy) {
        return new LoadOptions(policy, data);
    }

    /** The {@code void *data} argument of the kext's start and stop routines (a kernel address, 0 = NULL). */
    public LoadOptions withData(long data) {
        return new LoadOptions(leakPolicy, data);
    }

    /** This kext's leak policy, or null to use the kernel's. */
    public LeakPolicy leakPolicy() {
        return leakPolicy;
    }

    public long data() {
        return data;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LoadOptions other && leakPolicy == other.leakPolicy && data == other.data;
    }

    @Override
    public int hashCode() {
        return Objects.hash(leakPolicy, data);
    }

    @Override
    public String toString() {
        return "LoadOptions[leakPolicy=" + (leakPolicy == null ? "kernel default" : leakPolicy)
                + ", data=0x" + Long.toHexString(data) + "]";
    }
}
