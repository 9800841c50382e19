package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.printf.CFormat;

/**
 * {@code <sys/systm.h>} and {@code <kern/debug.h>} ({@link dev.kextharness.kpi.Systm}): {@code printf}, {@code panic}.
 *
 * <p>Stability: internal.
 */
final class SystmKpi extends KextKpi {
    SystmKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public int printf(String format, Object[] args, int site) {
        enter();
        String text = CFormat.format(format, args, addr -> memory.cString(addr, site));
        kernel.log().append(text);
        return text.length();
    }

    public void panic(String format, Object[] args, int site) {
        enter();
        throw kernel.panicker().kext(site, CFormat.format(format, args, addr -> memory.cString(addr, site)));
    }
}
