package dev.kextharness.kernel.vm;

/**
 * The x86_64 kernel address layout the simulation uses. Kexts load just below the kernel, as in
 * XNU ({@code VM_MIN_KERNEL_AND_KEXT_ADDRESS}); the zone map, kalloc_map and the rest of
 * kernel_map sit above the kernel text, far enough apart that none can overlap another for any
 * physical memory from {@link #MIN_PHYSICAL_MEMORY} to {@link #MAX_PHYSICAL_MEMORY}.
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

    /**
     * The least physical memory a simulated Mac may have. No Mac that runs Catalina has less than
     * 4 GiB, but the {@code maxmem} boot-arg ({@code osfmk/i386/i386_init.c}) boots one with less,
     * and a small Mac makes a fast zone-map lesson; below this the 115 MiB zone map
     * ({@code CONFIG_ZONE_MAP_MIN}) would be more than the RAM can hold.
     */
    public static final long MIN_PHYSICAL_MEMORY = 256L << 20;
    /**
     * The most physical memory xnu-6153 uses: {@code K64_MAXMEM} = 1536 GB
     * ({@code osfmk/mach/i386/vm_param.h}), the 1.5 TiB of the largest 2019 Mac Pro; the kernel
     * caps anything beyond ("Physical memory %lld bytes capped at %dGB").
     */
    public static final long MAX_PHYSICAL_MEMORY = 1536L << 30;
    /** The largest zone map: XNU caps it at 64 GiB (what a 256 GiB Mac gets). */
    public static final long ZONE_MAP_MAX = 64L << 30;
    /** The largest kalloc_map: 1/32 of {@link #MAX_PHYSICAL_MEMORY} (LP64 kernels have no cap). */
    public static final long KALLOC_MAP_MAX = MAX_PHYSICAL_MEMORY >> 5;

    /**
     * Where the three maps lie for one boot, each {@code [start, end)}.
     *
     * @throws IllegalArgumentException if a map is larger than the layout has room for
     */
    public static Layout layout(long zoneMapCapacity, long kallocMapSize) {
        if (zoneMapCapacity <= 0 || zoneMapCapacity > ZONE_MAP_MAX) {
            throw new IllegalArgumentException("a zone map of " + zoneMapCapacity + " bytes does not fit the layout: "
                    + "it holds 1 byte to " + ZONE_MAP_MAX + " bytes");
        }
        if (kallocMapSize <= 0 || kallocMapSize > KALLOC_MAP_MAX) {
            throw new IllegalArgumentException("a kalloc_map of " + kallocMapSize + " bytes does not fit the layout: "
                    + "it holds 1 byte to " + KALLOC_MAP_MAX + " bytes (1/32 of " + MAX_PHYSICAL_MEMORY + " bytes of RAM)");
        }
        return new Layout(ZONE_MAP_BASE, ZONE_MAP_BASE + zoneMapCapacity, KALLOC_MAP_BASE,
                KALLOC_MAP_BASE + kallocMapSize, KERNEL_MAP_BASE, KERNEL_MAP_END);
    }

    /** The zone map, kalloc_map and the rest of kernel_map, in ascending order and disjoint. */
    public record Layout(long zoneMapStart, long zoneMapEnd, long kallocMapStart, long kallocMapEnd,
                         long kernelMapStart, long kernelMapEnd) {
    }

    static {
        // The fixed bases leave room for the largest maps: no two can overlap for any accepted RAM.
        if (Long.compareUnsigned(ZONE_MAP_BASE + ZONE_MAP_MAX, KALLOC_MAP_BASE) > 0
                || Long.compareUnsigned(KALLOC_MAP_BASE + KALLOC_MAP_MAX, KERNEL_MAP_BASE) > 0) {
            throw new ExceptionInInitializerError("AddressSpace: the maps' bases leave too little room");
        }
    }

    public static long roundPage(long size) {
        return (size + PAGE_MASK) & ~PAGE_MASK;
    }

    public static long truncPage(long addr) {
        return addr & ~PAGE_MASK;
    }
}
