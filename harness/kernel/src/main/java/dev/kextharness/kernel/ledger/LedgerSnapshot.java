package dev.kextharness.kernel.ledger;

import org.apiguardian.api.API;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * What was live in a kernel at one moment, grouped by call site, zone and OSMalloc tag. Filter it
 * by kext, zone, tag or family, and diff two snapshots to see what a call changed.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class LedgerSnapshot {
    /** How many addresses a group keeps as examples. */
    public static final int SAMPLE_ADDRESSES = 4;

    /**
     * Live allocations made at one call site, in one zone (or map), with one tag.
     *
     * @param site           where they were allocated
     * @param zone           the zone ({@code kalloc.48}), or the map for blocks outside zones ({@code kalloc_map})
     * @param tag            the OSMalloc tag's name, or null
     * @param count          how many
     * @param requestedBytes bytes the callers asked for
     * @param wiredBytes     bytes they really hold (element or page-rounded size)
     * @param addresses      up to {@link #SAMPLE_ADDRESSES} of their addresses, lowest first
     */
    public record Group(CallSite site, String zone, String tag, long count, long requestedBytes, long wiredBytes,
                        List<Long> addresses) {
        /** The key two snapshots are compared by. */
        String key() {
            return site.id() + "|" + zone + "|" + tag;
        }
    }

    /** Builds a snapshot one live allocation at a time. */
    public static final class Builder {
        private final Map<String, long[]> totals = new LinkedHashMap<>();
        private final Map<String, Object[]> identity = new LinkedHashMap<>();
        private final Map<String, List<Long>> samples = new LinkedHashMap<>();

        public Builder add(CallSite site, String zone, String tag, long requested, long wired, long address) {
            String key = site.id() + "|" + zone + "|" + tag;
            long[] t = totals.computeIfAbsent(key, k -> new long[3]);
            t[0]++;
            t[1] += requested;
            t[2] += wired;
            identity.putIfAbsent(key, new Object[]{site, zone, tag});
            List<Long> s = samples.computeIfAbsent(key, k -> new ArrayList<>());
            s.add(address);
            if (s.size() > SAMPLE_ADDRESSES * 4) {
                s.sort(Long::compareUnsigned);
                s.subList(SAMPLE_ADDRESSES, s.size()).clear();
            }
            return this;
        }

        /** Adds live blocks already summed by the allocator: {@code count} of them, with their lowest addresses. */
        public Builder addGroup(CallSite site, String zone, String tag, long count, long requested, long wired,
                                long[] addresses) {
            String key = site.id() + "|" + zone + "|" + tag;
            long[] t = totals.computeIfAbsent(key, k -> new long[3]);
            t[0] += count;
            t[1] += requested;
            t[2] += wired;
            identity.putIfAbsent(key, new Object[]{site, zone, tag});
            List<Long> s = samples.computeIfAbsent(key, k -> new ArrayList<>());
            for (long address : addresses) {
                s.add(address);
            }
            return this;
        }

        public LedgerSnapshot build() {
            List<Group> groups = new ArrayList<>();
            for (Map.Entry<String, long[]> e : totals.entrySet()) {
                Object[] id = identity.get(e.getKey());
                List<Long> s = samples.get(e.getKey());
                s.sort(Long::compareUnsigned);
                groups.add(new Group((CallSite) id[0], (String) id[1], (String) id[2], e.getValue()[0], e.getValue()[1],
                        e.getValue()[2], List.copyOf(s.subList(0, Math.min(SAMPLE_ADDRESSES, s.size())))));
            }
            return new LedgerSnapshot(groups);
        }
    }

    private final List<Group> groups;

    LedgerSnapshot(List<Group> groups) {
        List<Group> sorted = new ArrayList<>(groups);
        sorted.sort(Comparator.comparingLong(Group::wiredBytes).reversed()
                .thenComparing(Comparator.comparingLong(Group::count).reversed())
                .thenComparingInt(g -> g.site().id()));
        this.groups = List.copyOf(sorted);
    }

    public static LedgerSnapshot empty() {
        return new LedgerSnapshot(List.of());
    }

    /** Groups, largest (wired bytes) first. */
    public List<Group> groups() {
        return groups;
    }

    public long count() {
        return groups.stream().mapToLong(Group::count).sum();
    }

    public long requestedBytes() {
        return groups.stream().mapToLong(Group::requestedBytes).sum();
    }

    public long wiredBytes() {
        return groups.stream().mapToLong(Group::wiredBytes).sum();
    }

    public boolean isEmpty() {
        return groups.isEmpty();
    }

    /** Only the allocations made by the kext with this bundle identifier. */
    public LedgerSnapshot kext(String bundleId) {
        return filter(g -> g.site().bundleId().equals(bundleId));
    }

    /** Only the allocations made by the kext with this load tag. */
    public LedgerSnapshot kext(int loadTag) {
        return filter(g -> g.site().loadTag() == loadTag);
    }

    public LedgerSnapshot zone(String zone) {
        return filter(g -> zone.equals(g.zone()));
    }

    public LedgerSnapshot tag(String tag) {
        return filter(g -> tag.equals(g.tag()));
    }

    public LedgerSnapshot family(Family family) {
        return filter(g -> g.site().family() == family);
    }

    public LedgerSnapshot filter(Predicate<Group> predicate) {
        return new LedgerSnapshot(groups.stream().filter(predicate).toList());
    }

    /** Live count per zone (or map). */
    public Map<String, Long> countByZone() {
        Map<String, Long> out = new LinkedHashMap<>();
        groups.forEach(g -> out.merge(g.zone(), g.count(), Long::sum));
        return out;
    }

    /** Live count per family. */
    public Map<Family, Long> countByFamily() {
        Map<Family, Long> out = new LinkedHashMap<>();
        groups.forEach(g -> out.merge(g.site().family(), g.count(), Long::sum));
        return out;
    }

    /** Live count per kext bundle identifier. */
    public Map<String, Long> countByKext() {
        Map<String, Long> out = new LinkedHashMap<>();
        groups.forEach(g -> out.merge(g.site().bundleId(), g.count(), Long::sum));
        return out;
    }

    /**
     * What changed since {@code earlier}: one group per site, zone and tag whose count or bytes
     * moved, with the difference (negative when allocations were freed). Sample addresses are those
     * of this snapshot.
     */
    public LedgerSnapshot diff(LedgerSnapshot earlier) {
        Map<String, Group> before = new LinkedHashMap<>();
        earlier.groups.forEach(g -> before.put(g.key(), g));
        Map<String, Group> now = new LinkedHashMap<>();
        groups.forEach(g -> now.put(g.key(), g));
        List<Group> out = new ArrayList<>();
        for (Group g : groups) {
            Group b = before.get(g.key());
            long dc = g.count() - (b == null ? 0 : b.count());
            long dr = g.requestedBytes() - (b == null ? 0 : b.requestedBytes());
            long dw = g.wiredBytes() - (b == null ? 0 : b.wiredBytes());
            if (dc != 0 || dr != 0 || dw != 0) {
                out.add(new Group(g.site(), g.zone(), g.tag(), dc, dr, dw, g.addresses()));
            }
        }
        for (Group b : earlier.groups) {
            if (!now.containsKey(b.key())) {
                out.add(new Group(b.site(), b.zone(), b.tag(), -b.count(), -b.requestedBytes(), -b.wiredBytes(), List.of()));
            }
        }
        return new LedgerSnapshot(out);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Group g : groups) {
            sb.append(String.format("%+d x %s in %s%s: %d bytes requested, %d wired%n", g.count(), g.site(), g.zone(),
                    g.tag() == null ? "" : " tag '" + g.tag() + "'", g.requestedBytes(), g.wiredBytes()));
        }
        return sb.toString();
    }
}
