package dev.kextharness.kpi;

/**
 * Where a KPI function's symbol comes from, as kxld resolves it: one of Catalina's KPI libraries
 * (the {@code com.apple.kpi.*} pseudo-kexts a kext names in {@code OSBundleLibraries}, each with
 * its export list {@code config/<file>.exports} in xnu-6153), or no library at all.
 *
 * <p>Stability: stable.
 */
public enum KpiLibrary {
    BSD(KextBundle.KPI_BSD, "BSDKernel"),
    DSEP(KextBundle.KPI_DSEP, "MACFramework"),
    IOKIT(KextBundle.KPI_IOKIT, "IOKit"),
    LIBKERN(KextBundle.KPI_LIBKERN, "Libkern"),
    MACH(KextBundle.KPI_MACH, "Mach"),
    /** Apple's own kexts only. */
    PRIVATE(KextBundle.KPI_PRIVATE, "Private"),
    /** Not for shipping kexts ({@code kalloc}, {@code kfree}): only a kext that names it links against it. */
    UNSUPPORTED(KextBundle.KPI_UNSUPPORTED, "Unsupported"),
    /**
     * No symbol at all: a macro, an inline function or a field of a structure the header defines.
     * Any kext may use it, whatever its libraries.
     */
    NONE(null, null),
    /** A kernel function in no export list: kxld never resolves it for a kext. */
    NOT_EXPORTED(null, null);

    private final String bundleId;
    private final String exportList;

    KpiLibrary(String bundleId, String exportList) {
        this.bundleId = bundleId;
        this.exportList = exportList;
    }

    /** The pseudo-kext's bundle identifier, such as {@code com.apple.kpi.bsd}; null for NONE and NOT_EXPORTED. */
    public String bundleId() {
        return bundleId;
    }

    /** The export list's file name without {@code .exports}, such as {@code BSDKernel}; null if not a library. */
    public String exportList() {
        return exportList;
    }

    /** True for a real library a kext can name (everything but NONE and NOT_EXPORTED). */
    public boolean isLibrary() {
        return bundleId != null;
    }

    /** The library with this bundle identifier, or null if none is. */
    public static KpiLibrary ofBundleId(String bundleId) {
        for (KpiLibrary library : values()) {
            if (library.bundleId != null && library.bundleId.equals(bundleId)) {
                return library;
            }
        }
        return null;
    }
}
