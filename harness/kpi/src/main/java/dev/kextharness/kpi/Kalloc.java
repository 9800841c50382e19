package dev.kextharness.kpi;

import static dev.kextharness.kpi.KpiLibrary.NOT_EXPORTED;
import static dev.kextharness.kpi.KpiLibrary.UNSUPPORTED;

/**
 * {@code <kern/kalloc.h>}, from XNU's "Unsupported" KPI: the kalloc buckets. {@code kfree} takes
 * the size because the size, not the address, chooses the zone. A kext that calls them names
 * {@link KextBundle#KPI_UNSUPPORTED} in {@code @KextBundle(libraries)}, as its OSBundleLibraries
 * would; {@code kalloc_noblock} is exported to no kext in Catalina, so a kext that calls it fails to link.
 *
 * <p>Stability: stable.
 */
public final class Kalloc {
    private Kalloc() {
    }

    /** {@code void *kalloc(vm_size_t size)}: blocking. */
    @Kpi(library = UNSUPPORTED, family = AllocatorFamily.KALLOC, failable = true)
    public static long kalloc(long size) {
        throw Unlinked.call("kalloc");
    }

    /** {@code void *kalloc_noblock(vm_size_t size)}: NULL above 16384 bytes. Kernel-only: no kext links it. */
    @Kpi(library = NOT_EXPORTED, family = AllocatorFamily.KALLOC, failable = true)
    public static long kalloc_noblock(long size) {
        throw Unlinked.call("kalloc_noblock");
    }

    /** {@code void kfree(void *data, vm_size_t size)}. */
    @Kpi(library = UNSUPPORTED, family = AllocatorFamily.KALLOC)
    public static void kfree(long data, long size) {
        throw Unlinked.call("kfree");
    }
}
