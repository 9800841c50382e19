package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.zalloc.Zalloc;

/**
 * The ordinary zone use of a Mac that has been up for days, next to the leaking kext: kalloc
 * buffers of every size, held for a while and freed, their levels swinging slowly. Together they
 * take 44 % of the zone map, as the source article's zones other than kalloc.48 did (5.70 GB of
 * 12 GiB at its first warning). Most of those bytes sit in large buckets, so the
 * bookkeeping behind them stays small at true scale.
 *
 * <p>Every {@link #TICK_NANOS} of simulated time each zone frees its oldest buffers and allocates
 * new ones (a slow turnover), then moves towards its level of the moment, which follows a
 * sinusoid of its own period. Zone GC, every {@link #ZONE_GC_NANOS}, returns the chunks a falling
 * level empties.
 */
final class Background {
    /** How often the background runs: once a simulated minute. */
    static final long TICK_NANOS = 60_000_000_000L;
    /**
     * How often the pageout daemon collects zones on a Mac whose file cache keeps memory full:
     * once a simulated hour, so that the chunks a falling level empties go back to the map as
     * they would, instead of waiting for the first collection at the jetsam limit.
     */
    static final long ZONE_GC_NANOS = 3_600_000_000_000L;
    /** Fraction of a zone's buffers replaced each tick (about 14 % a day). */
    private static final double TURNOVER = 1.0 / 10_000;

    /** One zone's share: its bucket, its mean fraction of the zone map, its swing and period. */
    private record Share(int bucket, double fraction, double swing, double periodHours) {
    }

    private static final Share[] PROFILE = {
            new Share(4096, 0.130, 0.010, 23),
            new Share(8192, 0.100, 0.012, 17),
            new Share(12288, 0.090, 0.020, 5),
            new Share(16384, 0.080, 0.010, 31),
            new Share(2048, 0.015, 0.020, 7),
            new Share(1024, 0.010, 0.020, 11),
            new Share(512, 0.005, 0.030, 3),
            new Share(256, 0.003, 0.030, 13),
            new Share(128, 0.002, 0.030, 9),
            new Share(64, 0.002, 0.030, 6),
            new Share(32, 0.001, 0.030, 4),
            new Share(16, 0.0005, 0.030, 2),
    };

    private final Kalloc kalloc;
    private final Zalloc zalloc;
    private final int site;
    private final Ring[] rings;
    private long nextTick;
    private long nextZoneGc;

    /** A zone's live buffers, oldest first. */
    private static final class Ring {
        final int size;
        final long mean;
        final double swing;
        final double omega;
        final double phase;
        long[] addresses;
        int head;
        int count;

        Ring(int size, long mean, double swing, double periodHours, double phase) {
            this.size = size;
            this.mean = mean;
            this.swing = swing;
            this.omega = 2 * Math.PI / (periodHours * 3600e9);
            this.phase = phase;
            this.addresses = new long[(int) Math.max(16, mean + mean / 8 + 16)];
        }

        long level(long uptimeNanos) {
            return Math.round(mean * (1 + swing * Math.sin(omega * uptimeNanos + phase)));
        }

        void push(long address) {
            if (count == addresses.length) {
                long[] grown = new long[addresses.length * 2];
                for (int i = 0; i < count; i++) {
                    grown[i] = addresses[(head + i) % addresses.length];
                }
                addresses = grown;
                head = 0;
            }
            addresses[(head + count) % addresses.length] = address;
            count++;
        }

        long pop() {
            long address = addresses[head];
            head = (head + 1) % addresses.length;
            count--;
            return address;
        }
    }

    Background(Kernel kernel, long startNanos) {
        this.kalloc = kernel.kalloc();
        this.zalloc = kernel.zalloc();
        this.site = kernel.kernelSite(Family.KALLOC, "kalloc", "ordinary zone use");
        long capacity = zalloc.zoneMapCapacity();
        rings = new Ring[PROFILE.length];
        for (int i = 0; i < PROFILE.length; i++) {
            Share share = PROFILE[i];
            long mean = (long) (capacity * share.fraction / share.bucket);
            rings[i] = new Ring(share.bucket, mean, share.swing, share.periodHours, i * 1.7);
        }
        this.nextTick = startNanos;
        this.nextZoneGc = startNanos + ZONE_GC_NANOS;
    }

    /** The fraction of the zone map the background holds on average. */
    static double mapFraction() {
        double sum = 0;
        for (Share share : PROFILE) {
            sum += share.fraction;
        }
        return sum;
    }

    /** Brings every zone to its level at {@code uptimeNanos}: what the Mac held when the soak began. */
    void fill(long uptimeNanos) {
        for (Ring ring : rings) {
            settle(ring, ring.level(uptimeNanos));
        }
        nextTick = uptimeNanos + TICK_NANOS;
    }

    /** Runs the ticks that are due by {@code uptimeNanos}; cheap when none is. */
    void advanceTo(long uptimeNanos) {
        while (uptimeNanos >= nextTick) {
            for (Ring ring : rings) {
                long replace = Math.max(1, Math.round(ring.count * TURNOVER));
                for (long i = 0; i < replace && ring.count > 0; i++) {
                    kalloc.kfree(ring.pop(), ring.size, site);
                }
                settle(ring, ring.level(nextTick));
            }
            if (nextTick >= nextZoneGc) {
                zalloc.zoneGc();
                nextZoneGc += ZONE_GC_NANOS;
            }
            nextTick += TICK_NANOS;
        }
    }

    private void settle(Ring ring, long level) {
        while (ring.count > level) {
            kalloc.kfree(ring.pop(), ring.size, site);
        }
        while (ring.count < level) {
            long address = kalloc.kalloc(ring.size, true, site);
            if (address == 0) {
                return;
            }
            ring.push(address);
        }
    }

    /** When the next tick is due. */
    long nextTick() {
        return nextTick;
    }
}
