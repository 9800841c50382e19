package dev.kextharness.kernel.kext;

/**
 * Pointer dereference ({@link dev.kextharness.kpi.Mem}): checked loads and stores of kernel memory.
 *
 * <p>Stability: internal.
 */
final class MemKpi extends KextKpi {
    MemKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public int load8(long addr, int site) {
        enter();
        return (int) memory.load(addr, 1, site);
    }

    public int load16(long addr, int site) {
        enter();
        return (int) memory.load(addr, 2, site);
    }

    public long load32(long addr, int site) {
        enter();
        return memory.load(addr, 4, site);
    }

    public long load64(long addr, int site) {
        enter();
        return memory.load(addr, 8, site);
    }

    public void store8(long addr, int value, int site) {
        enter();
        memory.store(addr, 1, value, site);
    }

    public void store16(long addr, int value, int site) {
        enter();
        memory.store(addr, 2, value, site);
    }

    public void store32(long addr, long value, int site) {
        enter();
        memory.store(addr, 4, value, site);
    }

    public void store64(long addr, long value, int site) {
        enter();
        memory.store(addr, 8, value, site);
    }
}
