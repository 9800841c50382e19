package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.zalloc.Zone;

import java.util.Arrays;
import java.util.List;

/**
 * The zone sizes and the zone map's size over simulated time, for the chart: at most
 * {@code 2 x max} points whatever the length of the run. Points are taken at a fixed interval of
 * simulated time; when the buffer is full every other point is dropped and the interval doubles,
 * so the points stay evenly spread from the start to the end.
 *
 * <p>Stability: stable (read side).
 */
public final class SoakSamples {
    private final List<String> zoneNames;
    private final int limit;
    private long[] uptime;
    private long[] mapSize;
    private long[][] zoneSize;
    private int count;
    private long interval;
    private long next;

    SoakSamples(List<Zone> zones, int max, long startNanos, long intervalNanos) {
        this.zoneNames = zones.stream().map(Zone::name).toList();
        this.limit = 2 * max;
        this.uptime = new long[limit];
        this.mapSize = new long[limit];
        this.zoneSize = new long[zones.size()][limit];
        this.interval = Math.max(1, intervalNanos);
        this.next = startNanos;
    }

    /** True when a point is due at this time. */
    boolean due(long uptimeNanos) {
        return uptimeNanos >= next;
    }

    /** Takes a point now, whether due or not (the last point of a run). */
    void take(long uptimeNanos, long zoneMapSize, List<Zone> zones) {
        if (count > 0 && uptime[count - 1] == uptimeNanos) {
            count--;
        }
        if (count == limit) {
            thin();
        }
        uptime[count] = uptimeNanos;
        mapSize[count] = zoneMapSize;
        for (int z = 0; z < zoneSize.length; z++) {
            zoneSize[z][count] = zones.get(z).curSize();
        }
        count++;
        while (next <= uptimeNanos) {
            next += interval;
        }
    }

    private void thin() {
        int kept = 0;
        for (int i = 0; i < count; i += 2) {
            uptime[kept] = uptime[i];
            mapSize[kept] = mapSize[i];
            for (long[] sizes : zoneSize) {
                sizes[kept] = sizes[i];
            }
            kept++;
        }
        count = kept;
        interval *= 2;
    }

    /** Points taken. */
    public int size() {
        return count;
    }

    /** Simulated uptime of each point, in nanoseconds. */
    public long[] uptimeNanos() {
        return Arrays.copyOf(uptime, count);
    }

    /** {@code zone_map->size} at each point. */
    public long[] zoneMapSize() {
        return Arrays.copyOf(mapSize, count);
    }

    /** The zones, in the kernel's order. */
    public List<String> zoneNames() {
        return zoneNames;
    }

    /** {@code cur_size} of the named zone at each point. */
    public long[] zoneSize(String zone) {
        int index = zoneNames.indexOf(zone);
        if (index < 0) {
            throw new IllegalArgumentException("no zone " + zone + " was sampled; zones: " + zoneNames);
        }
        return Arrays.copyOf(zoneSize[index], count);
    }
}
