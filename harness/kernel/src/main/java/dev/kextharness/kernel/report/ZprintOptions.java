package dev.kextharness.kernel.report;

/**
 * zprint's options, immutable: each {@code with...} returns a new value. The defaults are
 * zprint's own: column output, headers, the wired-memory report ({@code -l}), no filter.
 *
 * @param wasted      {@code -w}: add the "frag size" and "free size" columns and the waste totals
 * @param sortByWaste {@code -s}: zones by wasted bytes, sites by size, both descending
 * @param hideHeaders {@code -H}: no column headers and no ZONE TOTALS block
 * @param totals      {@code -t}: add the "total allocs" column (lifetime allocations)
 * @param nameFilter  the optional name argument, a case-sensitive substring of zone and site
 *                    names; null or empty for none
 * @param wiredReport {@code -l} (default) / {@code -L}: print the wired-memory report
 *
 * <p>Stability: stable.
 */
public record ZprintOptions(boolean wasted, boolean sortByWaste, boolean hideHeaders, boolean totals,
        String nameFilter, boolean wiredReport) {

    private static final ZprintOptions DEFAULTS = new ZprintOptions(false, false, false, false, null, true);

    /** zprint with no arguments. */
    public static ZprintOptions defaults() {
        return DEFAULTS;
    }

    public ZprintOptions withWasted(boolean value) {
        return new ZprintOptions(value, sortByWaste, hideHeaders, totals, nameFilter, wiredReport);
    }

    public ZprintOptions withSortByWaste(boolean value) {
        return new ZprintOptions(wasted, value, hideHeaders, totals, nameFilter, wiredReport);
    }

    public ZprintOptions withHideHeaders(boolean value) {
        return new ZprintOptions(wasted, sortByWaste, value, totals, nameFilter, wiredReport);
    }

    public ZprintOptions withTotals(boolean value) {
        return new ZprintOptions(wasted, sortByWaste, hideHeaders, value, nameFilter, wiredReport);
    }

    public ZprintOptions withNameFilter(String value) {
        return new ZprintOptions(wasted, sortByWaste, hideHeaders, totals, value, wiredReport);
    }

    public ZprintOptions withWiredReport(boolean value) {
        return new ZprintOptions(wasted, sortByWaste, hideHeaders, totals, nameFilter, value);
    }

    /** Whether a name argument was given (zprint tests its length, so "" is none). */
    public boolean filtering() {
        return nameFilter != null && !nameFilter.isEmpty();
    }

    /** zprint's {@code substr()}: the filter occurs in {@code name}, case-sensitively. */
    public boolean matches(String name) {
        return !filtering() || name.contains(nameFilter);
    }
}
