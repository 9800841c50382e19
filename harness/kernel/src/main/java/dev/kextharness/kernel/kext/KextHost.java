package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.fault.FaultInjector;
import dev.kextharness.kernel.iokit.IOKitAllocators;
import dev.kextharness.kernel.ipc.Ipc;
import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.log.KernelLog;
import dev.kextharness.kernel.malloc.BsdMalloc;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.report.KextRow;
import dev.kextharness.kernel.sysctl.SysctlTree;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.zalloc.Zalloc;

/**
 * The kernel as OSKext and the KPI see it: the subsystems a kext's calls reach, and the verdict
 * after an unload. The kernel hands one to its {@link KextManager} at boot, so this package never
 * names the kernel class and the kernel's public API carries none of these callbacks.
 *
 * <p>Stability: internal.
 */
public interface KextHost {

    /** Throws the kernel's panic if it has panicked: every KPI call starts here. */
    void checkAlive();

    /** The panic that ended the kernel, or null. */
    KernelPanic panic();

    long uptimeNanos();

    /** {@code osrelease}, such as {@code 19.6.0}: the version of the kernel and of its KPI pseudo-kexts. */
    String osrelease();

    /** The kernel's own kextstat row (load tag 0), with {@code refs} kexts linked against it. */
    KextRow kernelRow(int refs);

    KernelLog log();

    Panicker panicker();

    Ledger ledger();

    SparseMemory memory();

    Zalloc zalloc();

    Kalloc kalloc();

    BsdMalloc malloc();

    OSMallocTags osmalloc();

    IOKitAllocators iokit();

    Ipc ipc();

    SysctlTree sysctl();

    FaultInjector faults();

    /**
     * Decides what an unloaded kext left behind, under its leak policy: returns, throws the leak
     * error or panics. Called after a successful stop or a failed start.
     */
    void judgeUnload(LoadedKext kext, boolean startFailed);
}
