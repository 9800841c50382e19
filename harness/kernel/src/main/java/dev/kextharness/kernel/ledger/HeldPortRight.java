package dev.kextharness.kernel.ledger;

import org.apiguardian.api.API;

/**
 * A port right a kext's code took and still held when the kext unloaded: the port-right
 * counterpart of a leaked allocation.
 *
 * @param site    the call site that took it ({@code mach_port_allocate}, {@code mach_port_insert_right}, ...)
 * @param pid     the process whose IPC space holds it (0 for kernel_task)
 * @param process that process's name
 * @param name    the port name in that space
 * @param right   {@code send}, {@code receive}, {@code send-once}, {@code port set} or {@code dead name}
 * @param urefs   user references held (1 for rights that have none)
 */
@API(status = API.Status.STABLE, since = "0.1")
public record HeldPortRight(CallSite site, int pid, String process, int name, String right, long urefs) {
}
