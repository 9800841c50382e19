package dev.kextharness.kernel.zalloc;

import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;

/**
 * Hardware-trap panics: what a NULL or wild dereference in kernel mode ends in
 * ({@code osfmk/i386/trap.c}, type 14 = page fault). trap.c undefines the {@code panic()} macro
 * before this panic, so its message prints plain: real newlines, no quotes, no {@code @file:line}.
 */
public final class Traps {
    /** {@code panic_trap}'s format (osfmk/i386/trap.c:852-873 in xnu-6153.141.1). */
    private static final String KERNEL_TRAP = "Kernel trap at 0x%016llx, type %d=%s, registers:\n"
            + "CR0: 0x%016llx, CR2: 0x%016llx, CR3: 0x%016llx, CR4: 0x%016llx\n"
            + "RAX: 0x%016llx, RBX: 0x%016llx, RCX: 0x%016llx, RDX: 0x%016llx\n"
            + "RSP: 0x%016llx, RBP: 0x%016llx, RSI: 0x%016llx, RDI: 0x%016llx\n"
            + "R8:  0x%016llx, R9:  0x%016llx, R10: 0x%016llx, R11: 0x%016llx\n"
            + "R12: 0x%016llx, R13: 0x%016llx, R14: 0x%016llx, R15: 0x%016llx\n"
            + "RFL: 0x%016llx, RIP: 0x%016llx, CS:  0x%016llx, SS:  0x%016llx\n"
            + "Fault CR2: 0x%016llx, Error code: 0x%016llx, Fault CPU: 0x%x%s%s%s%s, PL: %d, VF: %d\n";

    private Traps() {
    }

    /** A kernel page fault at {@code faultAddress} (CR2), reading: error code 0, privilege level 0. */
    public static KernelPanic pageFault(Panicker panicker, int site, long faultAddress) {
        long rip = 0xffffff8000a1b2c3L;
        String message = CFormat.format(KERNEL_TRAP, rip, 14, "page fault",
                0x0000000080010033L, faultAddress, 0x000000001c1a9000L, 0x00000000003626e0L,
                faultAddress, 0L, 0L, 0L,
                0xffffff90b627b6a0L, 0xffffff90b627b6c0L, 0L, faultAddress,
                0L, 0L, 0L, 0L,
                0L, 0L, 0L, 0L,
                0x0000000000010246L, rip, 0x0000000000000008L, 0x0000000000000010L,
                faultAddress, 0L, 0, "", "", "", "", 0, 0);
        return panicker.kernelPlain(site, message);
    }
}
