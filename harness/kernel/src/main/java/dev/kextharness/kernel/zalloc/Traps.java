package dev.kextharness.kernel.zalloc;

import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;

/**
 * Hardware-trap panics: what a NULL or wild dereference in kernel mode ends in
 * ({@code osfmk/i386/trap.c}, type 14 = page fault).
 */
public final class Traps {
    private Traps() {
    }

    /** A kernel page fault at {@code faultAddress} (CR2). */
    public static KernelPanic pageFault(Panicker panicker, int site, long faultAddress) {
        String message = CFormat.format("Kernel trap at 0x%016llx, type %d=%s, registers:\n", 0xffffff8000a1b2c3L, 14, "page fault")
                + CFormat.format("CR0: 0x%016llx, CR2: 0x%016llx, CR3: 0x%016llx, CR4: 0x%016llx\n",
                0x0000000080010033L, faultAddress, 0x000000001c1a9000L, 0x00000000003626e0L)
                + CFormat.format("Fault CR2: 0x%016llx, Error code: 0x%016llx, Fault CPU: 0x%x%s%s%s%s, PL: %d, VF: %d\n",
                faultAddress, 0L, 0, "", "", "", "", 0, 0);
        return panicker.kernel("osfmk/i386/trap.c", 0, site, message);
    }
}
