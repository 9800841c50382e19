package dev.kextharness.kernel.kext;

/**
 * What the kernel does when a kext unloads with allocations still outstanding.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public enum LeakPolicy {
    /** Panic the kernel: a {@code KernelPanic} whose log lists the kext in the backtrace. Stricter than XNU. */
    PANIC,
    /** Throw an {@link AssertionError} carrying the leak report, for tests. Stricter than XNU. */
    FAIL,
    /** Do what XNU does: unload, leave the memory in its zone, stay silent. The ledger still shows it. */
    XNU
}
