package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.NONE;

/**
 * Pointer dereference, which C spells {@code *p}: loads and stores of 8, 16, 32 and 64 bits at a
 * kernel address, little-endian as on x86_64. Loads are unsigned ({@code *(uint8_t *)p}); a store
 * keeps the low bits of its value. A bad address panics the kernel the way the hardware would.
 *
 * <p>Stability: stable.
 */
public final class Mem {
    private Mem() {
    }

    /** {@code *(uint8_t *)addr}. */
    @Kpi(library = NONE)
    public static int load8(long addr) {
        throw Unlinked.call("load8");
    }

    /** {@code *(uint16_t *)addr}. */
    @Kpi(library = NONE)
    public static int load16(long addr) {
        throw Unlinked.call("load16");
    }

    /** {@code *(uint32_t *)addr}, as a non-negative long. */
    @Kpi(library = NONE)
    public static long load32(long addr) {
        throw Unlinked.call("load32");
    }

    /** {@code *(uint64_t *)addr}. */
    @Kpi(library = NONE)
    public static long load64(long addr) {
        throw Unlinked.call("load64");
    }

    /** {@code *(uint8_t *)addr = value}. */
    @Kpi(library = NONE)
    public static void store8(long addr, int value) {
        throw Unlinked.call("store8");
    }

    /** {@code *(uint16_t *)addr = value}. */
    @Kpi(library = NONE)
    public static void store16(long addr, int value) {
        throw Unlinked.call("store16");
    }

    /** {@code *(uint32_t *)addr = value}. */
    @Kpi(library = NONE)
    public static void store32(long addr, long value) {
        throw Unlinked.call("store32");
    }

    /** {@code *(uint64_t *)addr = value}. */
    @Kpi(library = NONE)
    public static void store64(long addr, long value) {
        throw Unlinked.call("store64");
    }
}
