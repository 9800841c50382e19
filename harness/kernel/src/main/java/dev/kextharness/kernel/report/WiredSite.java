package dev.kextharness.kernel.report;

import java.util.Locale;
import java.util.Objects;

/**
 * One line of zprint's wired-memory report: an allocation site whose flags include WIRED or
 * ZONE and not HIDE (choosing those is the caller's part). Sizes are in bytes; a zero peak or
 * waste prints as blanks, as zprint prints them (RELEASE kernels report no peak). A zone site
 * ({@code VM_KERN_SITE_ZONE}) names the zone its bytes live in: they are already in the zones'
 * total, so zprint leaves them out of the "total" line and counts its elements as "zone tags".
 *
 * @param name  the site name as zprint prints it: {@code VM_KERN_MEMORY_<NAME>}, a kernel symbol,
 *              a {@linkplain #kextName kext name}, optionally followed by {@code [zone]}
 * @param vmTag the VM tag of the site
 * @param peak  the peak size ({@code peak}), 0 if unknown
 * @param waste the collectable bytes of a zone site ({@code collectable_bytes}), 0 if none
 * @param cur   the current size ({@code size})
 * @param zone  the zone of a zone site ({@code VM_KERN_SITE_ZONE}), null for a wired site
 *
 * <p>Stability: stable.
 */
public record WiredSite(String name, int vmTag, long peak, long waste, long cur, String zone) {

    /** What zprint names a site whose kext is no longer loaded. */
    public static final String UNLOADED_KMOD = "(unloaded kmod)";

    /** zprint shortens the site name so that it and the bracketed zone name fit in this many characters. */
    private static final int ZONE_SITE_NAME_WIDTH = 61;

    public WiredSite {
        Objects.requireNonNull(name, "name");
    }

    /** A wired (non-zone) site. */
    public WiredSite(String name, int vmTag, long peak, long waste, long cur) {
        this(name, vmTag, peak, waste, cur, null);
    }

    /** Whether this is a zone site, whose bytes zprint counts in the zones and not again in the total. */
    public boolean inZone() {
        return zone != null;
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
     * A kext's zone site: what the kext holds in one zone, as zprint shows it when the kernel
     * tags zone elements with the allocating kext (VM tag 0, no peak or waste).
     *
     * @param bundleId the kext's bundle id, null once it has been unloaded
     */
    public static WiredSite kextZone(String bundleId, int loadTag, String zone, long cur) {
        Objects.requireNonNull(zone, "zone");
        return new WiredSite(kextZoneName(bundleId, loadTag, zone), 0, 0, 0, cur, zone);
    }

    /**
     * zprint's name for a kext's zone site: {@code "%.*s[%.*s]"} of the bundle id (or
     * {@value #UNLOADED_KMOD}) and the zone, the bundle id cut so both fit in 61 characters when
     * the zone name is shorter than that, then {@code "%-64s%3ld"} with the load tag.
     */
    public static String kextZoneName(String bundleId, int loadTag, String zone) {
        String site = bundleId == null ? UNLOADED_KMOD : bundleId;
        int siteLength = site.length();
        if (siteLength + zone.length() > ZONE_SITE_NAME_WIDTH && zone.length() < ZONE_SITE_NAME_WIDTH) {
            siteLength = ZONE_SITE_NAME_WIDTH - zone.length();
        }
        return String.format(Locale.ROOT, "%-64s%3d", site.substring(0, siteLength) + "[" + zone + "]", loadTag);
    }

    /**
     * zprint's name for a kext site, {@code "%-64s%3ld"} of the bundle id and load tag, so the
     * tag lands under the "kmod id" heading. A null bundle id is a kext that has been unloaded.
     */
    public static String kextName(String bundleId, int loadTag) {
        return String.format(Locale.ROOT, "%-64s%3d", bundleId == null ? UNLOADED_KMOD : bundleId, loadTag);
    }
}
