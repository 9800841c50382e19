package dev.kextharness.kernel.vm;

/**
 * The x86_64 kernel address layout the simulation uses. Kexts load just below the kernel, as in
 * XNU ({@code VM_MIN_KERNEL_AND_KEXT_ADDRESS}); the zone map, kalloc_map and the rest of
 * kernel_map sit above the kernel text, far enough apart that none can overlap another.
 */
public final class AddressSpace {
    private AddressSpace() {
    }

    public static final long PAGE_SIZE = 4096;
    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_MASK = PAGE_SIZE - 1;

    /** {@code VM_MIN_KERNEL_ADDRESS}. */
    public static final long VM_MIN_KERNEL_ADDRESS = 0xffffff8000000000L;
    /** {@code VM_MIN_KERNEL_AND_KEXT_ADDRESS = VM_MIN_KERNEL_ADDRESS - 0x80000000}. */
    public static final long VM_MIN_KERNEL_AND_KEXT_ADDRESS = VM_MIN_KERNEL_ADDRESS - 0x80000000L;

    /** Kext executables are placed from here upwards (below the kernel, as XNU's kext map). */
    public static final long KEXT_BASE = 0xffffff7f9f000000L;
    /** Unslid kernel text base; the slide is added at boot. */
    public static final long KERNEL_TEXT_BASE_UNSLID = 0xffffff8000200000L;
    /** Unslid __HIB text base. */
    public static final long HIB_TEXT_BASE_UNSLID = 0xffffff8000100000L;

    /** Start of the zone map (its size is set at boot from the simulated RAM). */
    public static final long ZONE_MAP_BASE = 0xffffff8040000000L;
    /** Start of kalloc_map, placed beyond the largest possible zone map (64 GiB). */
    public static final long KALLOC_MAP_BASE = 0xffffff9100000000L;
    /** Start of the rest of kernel_map: large kallocs that miss kalloc_map, pageable and contiguous memory. */
    public static final long KERNEL_MAP_BASE = 0xffffffa000000000L;
    /** End of the simulated kernel_map. */
    public static final long KERNEL_MAP_END = 0xfffffff000000000L;

    public static long roundPage(long size) {
        return (size + PAGE_MASK) & ~PAGE_MASK;
    }

    public static long truncPage(long addr) {
        return addr & ~PAGE_MASK;
    }
}
