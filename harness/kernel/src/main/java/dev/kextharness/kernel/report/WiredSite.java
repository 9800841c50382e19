package dev.kextharness.kernel.report;

import java.util.Locale;
import java.util.Objects;

/**
 * One line of zprint's wired-memory report: an allocation site whose flags include WIRED or
 * ZONE and not HIDE (choosing those is the caller's part). Sizes are in bytes; a zero peak or
 * waste prints as blanks, as zprint prints them (RELEASE kernels report no peak).
 *
 * @param name  the site name as zprint prints it: {@code VM_KERN_MEMORY_<NAME>}, a kernel symbol,
 *              a {@linkplain #kextName kext name}, optionally followed by {@code [zone]}
 * @param vmTag the VM tag of the site
 * @param peak  the peak size ({@code peak}), 0 if unknown
 * @param waste the collectable bytes of a zone site ({@code collectable_bytes}), 0 if none
 * @param cur   the current size ({@code size})
 *
 * <p>Stability: stable.
 */
public record WiredSite(String name, int vmTag, long peak, long waste, long cur) {

    /** What zprint names a site whose kext is no longer loaded. */
    public static final String UNLOADED_KMOD = "(unloaded kmod)";

    public WiredSite {
        Objects.requireNonNull(name, "name");
    }

    /**
     * A kext's site: its name is {@link #kextName}, its VM tag 0 (unknown; use
     * {@link #kext(String, int, int, long)} when the kernel has given the kext a tag), and no
     * peak or waste, as on a RELEASE kernel.
     */
    public static WiredSite kext(String bundleId, int loadTag, long cur) {
        return kext(bundleId, loadTag, 0, cur);
    }

    /** A kext's site with the VM tag the kernel assigned to it. */
    public static WiredSite kext(String bundleId, int loadTag, int vmTag, long cur) {
        return new WiredSite(kextName(bundleId, loadTag), vmTag, 0, 0, cur);
    }

    /**
     * zprint's name for a kext site, {@code "%-64s%3ld"} of the bundle id and load tag, so the
     * tag lands under the "kmod id" heading. A null bundle id is a kext that has been unloaded.
     */
    public static String kextName(String bundleId, int loadTag) {
        return String.format(Locale.ROOT, "%-64s%3d", bundleId == null ? UNLOADED_KMOD : bundleId, loadTag);
    }
}
