package dev.kextharness.kernel.kext;

/**
 * {@code <mach/mach_port.h>} ({@link dev.kextharness.kpi.MachPort}) as a kext may link it: {@code current_task}.
 * The {@code mach_port_*} calls are exported to no kext in xnu-6153 (simulated user processes
 * make them through {@code UserProcess}); {@code MACH_PORT_TYPE} and {@code MACH_PORT_VALID} are pure macros.
 *
 * <p>Stability: internal.
 */
final class MachPortKpi extends KextKpi {
    MachPortKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public long current_task(int site) {
        enter();
        return kernel.ipc().currentTask().address();
    }
}
