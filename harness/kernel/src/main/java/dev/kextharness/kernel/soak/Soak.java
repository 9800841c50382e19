package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.jetsam.Memorystatus;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.log.KernelLog;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;
import dev.kextharness.kpi.Kext;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntConsumer;

/**
 * The soak: a kext leaking on every request, driven on the simulated clock of a Mac that has been
 * up for days, until the zone map runs out. The Mac boots with the given RAM (32 GiB gives the
 * source article's 12 GiB zone map), its ordinary zone use fills 44 % of the map
 * ({@link Background}), its processes hold kernel memory, and the kext handles requests at the
 * given rate. Past the jetsam limit the kernel's GC thread logs the three
 * {@code zone_map_exhaustion:} lines and memorystatus kills a process, whose kernel memory goes
 * back to its zone; the user-space daemons write their jetsam reports; launchd relaunches the
 * killed daemons, whose cache refills take the map's last few percent ({@link Launchd}). When a zone can no longer
 * grow the kernel panics with zalloc's message, naming the zone being grown and the largest zone
 * with its byte and element counts.
 *
 * <p>Nothing here is sampled or scaled down: at 32 GiB the kext holds about 136 million live
 * kalloc.48 elements at the panic, each counted by the ledger.
 *
 * <p>Stability: stable.
 */
public final class Soak {
    /** Requests between two looks at the kext's live allocations, to see whether it still leaks. */
    static final long STALL_WINDOW = 1L << 22;
    /** Steps between two progress reports. */
    private static final int PROGRESS_STEPS = 1 << 14;
    /**
     * First interval of the close-up samples: fine enough for a storm of a few simulated minutes;
     * thinning widens it for a longer one.
     */
    private static final long CLOSE_UP_INTERVAL_NANOS = 10_000_000L;

    /**
     * The user-space side of a jetsam kill, as the source article's log shows it: who logs what,
     * and how many microseconds after the kernel's kill line.
     */
    private static final Object[][] JETSAM_REPORT = {
            {83, "com.apple.MemoryMonitor plugin UserEventAgent", "MemoryMonitor kernel jetsam snapshot note received"},
            {310, "osanalyticshelper", "extending prolongation transaction timer"},
            {351, "osanalyticshelper", "Attempting to write jetsam report"},
            {628, "OSAnalytics", "Process %s [%d] killed by jetsam reason highwater"},
            {682, "OSAnalytics", "Tagging submission policy as alternate for logtype:298"},
    };

    private final SoakConfig config;
    private final SoakListener listener;
    private final Kernel kernel;
    private final Zalloc zalloc;
    private final List<TimelineLine> timeline = new ArrayList<>();
    private final List<JetsamKill> kills = new ArrayList<>();
    private Launchd launchd;

    private Soak(SoakConfig config, SoakListener listener) {
        this.config = config;
        this.listener = listener;
        this.kernel = Kernel.boot(config.kernel());
        this.zalloc = kernel.zalloc();
        kernel.log().addListener(this::kernelLine);
    }

    /**
     * Runs a soak of {@code kextClass}, which must implement an interface declaring
     * {@code handle(int requests)}.
     *
     * @throws IllegalArgumentException if the kext has no request method
     * @throws dev.kextharness.kernel.kext.KextLoadException if it does not load
     */
    public static SoakResult run(SoakConfig config, Class<? extends Kext> kextClass, SoakListener listener) {
        RequestDriver.find(kextClass);
        return new Soak(config, listener).run(kextClass);
    }

    /**
     * About how much Java heap a soak to the panic needs: per page of zone map, what the ledger
     * keeps for it (a chunk object, a two-byte link per element of the kext's zone; the
     * background's large elements cost a chunk object per page or less), plus a margin. At 32 GiB
     * (a 12 GiB map) it says 0.66 GiB; the measured peak heap, garbage included, is 0.67 GiB
     * (src/docs/soak.md), the live set about 0.4 GiB.
     */
    public static long estimatedHeapBytes(SoakConfig config) {
        long capacity = config.kernel().zoneMapSize() > 0 ? config.kernel().zoneMapSize()
                : Zalloc.zoneMapCapacityFor(config.kernel().physicalMemory());
        long pages = capacity >>> 12;
        long elemSize = config.recordSize() > 0 ? config.recordSize() : 48;
        long perPage = Math.max(1, 4096 / elemSize);
        long backgroundPages = config.background() ? (long) (pages * Background.mapFraction()) : 0;
        return (pages - backgroundPages) * (96 + 2 * perPage) + backgroundPages * 128 + (64L << 20);
    }

    private SoakResult run(Class<? extends Kext> kextClass) {
        long start = kernel.uptimeNanos();
        Background background = config.background() ? new Background(kernel, start) : null;
        if (background != null) {
            background.fill(start);
            launchd = new Launchd(kernel, config.kernel().physicalMemory());
        }
        LoadedKext kext = kernel.kextload(kextClass, LoadOptions.defaults().withData(config.recordSize()));
        IntConsumer handle = RequestDriver.bind(kext, kextClass);
        KextCounter counter = new KextCounter(kernel.ledger(), kext.loadTag());
        Zone[] zonesBefore = zalloc.zones().toArray(new Zone[0]);
        long[] countsBefore = counts(zonesBefore);

        double nanosPerRequest = 1e9 / config.rate();
        // One step is a simulated millisecond of requests (at least one), so log lines are stamped to the millisecond.
        int step = (int) Math.min(1 << 20, Math.max(1, Math.ceil(config.rate() / 1000)));
        SoakSamples samples = new SoakSamples(zalloc.zones(), config.maxSamples(), start,
                firstSampleInterval(nanosPerRequest));
        // The run-long samples are minutes apart at true scale, too coarse for the jetsam storm at the end.
        SoakSamples closeUp = new SoakSamples(zalloc.zones(), config.maxSamples(), start, CLOSE_UP_INTERVAL_NANOS);
        long jetsamLimit = zalloc.zoneMapCapacity() * zalloc.jetsamLimitPercent() / 100;
        boolean pastJetsamLimit = false;
        Until until = config.until();
        long untilAllocations = until instanceof Until.Allocations a ? a.count() : Long.MAX_VALUE;
        long untilMapSize = until instanceof Until.MapFraction f
                ? (long) Math.ceil(f.fraction() * zalloc.zoneMapCapacity()) : Long.MAX_VALUE;

        long requests = 0;
        long nextStallCheck = STALL_WINDOW;
        long liveAtLastCheck = -1;
        int steps = 0;
        SoakResult.StopReason reason = null;
        String message = null;
        try {
            while (true) {
                long now = start + (long) (requests * nanosPerRequest);
                kernel.advanceClock(now - kernel.uptimeNanos());
                if (background != null) {
                    background.advanceTo(now);
                    launchd.advanceTo(now);
                }
                int n = step;
                if (untilAllocations != Long.MAX_VALUE) {
                    n = (int) Math.max(1, Math.min(n, untilAllocations - counter.allocations()));
                }
                handle.accept(n);
                requests += n;
                if (samples.due(now)) {
                    samples.take(now, zalloc.zoneMapSize(), zalloc.zones());
                }
                // A kill's collection may take the map back under the limit within the step that warned.
                pastJetsamLimit |= zalloc.zoneMapSize() >= jetsamLimit || !kills.isEmpty();
                if (pastJetsamLimit && closeUp.due(now)) {
                    closeUp.take(now, zalloc.zoneMapSize(), zalloc.zones());
                }
                if (untilAllocations != Long.MAX_VALUE && counter.allocations() >= untilAllocations) {
                    reason = SoakResult.StopReason.UNTIL;
                    message = "stopped after " + counter.allocations() + " allocations by the kext, as --until asked";
                    break;
                }
                if (zalloc.zoneMapSize() >= untilMapSize) {
                    reason = SoakResult.StopReason.UNTIL;
                    message = String.format(Locale.ROOT, "stopped with the zone map at %.2f%% of its capacity, "
                            + "as --until asked", 100.0 * zalloc.zoneMapSize() / zalloc.zoneMapCapacity());
                    break;
                }
                if (requests >= nextStallCheck) {
                    nextStallCheck += STALL_WINDOW;
                    long live = counter.live();
                    if (live <= liveAtLastCheck) {
                        reason = SoakResult.StopReason.STALLED;
                        message = "stopped: the kext held no more memory after another " + STALL_WINDOW
                                + " requests (" + live + " live allocations), so the zone map would never run out";
                        break;
                    }
                    liveAtLastCheck = live;
                }
                if (++steps == PROGRESS_STEPS) {
                    steps = 0;
                    listener.progress(progress(until, counter), kernel.uptimeNanos(), zalloc.zoneMapSize());
                }
            }
        } catch (KernelPanic panic) {
            reason = SoakResult.StopReason.PANIC;
            message = "the kernel panicked: " + panic.panicString();
        } catch (RuntimeException e) {
            if (kernel.panicked()) {
                reason = SoakResult.StopReason.PANIC;
                message = "the kernel panicked: " + kernel.panic().panicString();
            } else {
                reason = SoakResult.StopReason.KEXT_FAILED;
                message = "stopped: the kext's handle(int) threw " + e;
            }
        }
        KernelPanic panic = kernel.panic();
        if (panic != null) {
            String first = panic.panicLog().lines().findFirst().orElse(panic.panicString());
            addLine(new TimelineLine(kernel.uptimeNanos(), "kernel", first));
        }
        samples.take(kernel.uptimeNanos(), zalloc.zoneMapSize(), zalloc.zones());
        if (pastJetsamLimit) {
            closeUp.take(kernel.uptimeNanos(), zalloc.zoneMapSize(), zalloc.zones());
        }
        listener.progress(panic != null ? 1 : progress(until, counter), kernel.uptimeNanos(), zalloc.zoneMapSize());
        return new SoakResult(reason, message, kernel, panic, grownZone(zonesBefore, countsBefore, counter), requests,
                counter.allocations(), counter.live(), zalloc.zoneMapCapacity(),
                jetsamLimit, List.copyOf(timeline), List.copyOf(kills),
                launchd == null ? List.of() : launchd.relaunches(), launchd == null ? 0 : launchd.cacheBytes(), samples,
                closeUp);
    }

    /** About a thousand points for a run to the panic at the given rate, before any thinning. */
    private long firstSampleInterval(double nanosPerRequest) {
        long elemSize = config.recordSize() > 0 ? config.recordSize() : 48;
        double requestsToFill = (double) zalloc.zoneMapCapacity() / elemSize;
        return (long) Math.max(1e6, requestsToFill * nanosPerRequest / config.maxSamples());
    }

    private double progress(Until until, KextCounter counter) {
        double capacity = zalloc.zoneMapCapacity();
        if (until instanceof Until.Allocations a) {
            return Math.min(1, (double) counter.allocations() / a.count());
        }
        if (until instanceof Until.MapFraction f) {
            return Math.min(1, zalloc.zoneMapSize() / (capacity * f.fraction()));
        }
        return Math.min(1, zalloc.zoneMapSize() / capacity);
    }

    private static long[] counts(Zone[] zones) {
        long[] counts = new long[zones.length];
        for (int i = 0; i < zones.length; i++) {
            counts[i] = zones[i].totalAllocations();
        }
        return counts;
    }

    /** The zone whose lifetime allocations grew the most while the kext ran: where its records went. */
    private static String grownZone(Zone[] zones, long[] before, KextCounter counter) {
        Zone best = null;
        long bestGrowth = 0;
        for (int i = 0; i < zones.length; i++) {
            long growth = zones[i].totalAllocations() - before[i];
            if (growth > bestGrowth) {
                bestGrowth = growth;
                best = zones[i];
            }
        }
        return best == null || counter.allocations() == 0 ? null : best.name();
    }

    private void kernelLine(KernelLog.Line line) {
        addLine(new TimelineLine(line.uptimeNanos(), "kernel", line.text()));
        if (line.text().contains("memorystatus: killing_")) {
            List<Memorystatus.Proc> killed = kernel.memorystatus().killed();
            Memorystatus.Proc victim = killed.get(killed.size() - 1);
            // The line comes before the kernel reaps the process: what it holds now is what the kill frees.
            kills.add(new JetsamKill(line.uptimeNanos(), victim.pid(), victim.name(), victim.priority(),
                    victim.footprintBytes(), kernel.processKernelBytes(victim.pid())));
            for (Object[] report : JETSAM_REPORT) {
                String text = String.format(Locale.ROOT, (String) report[2], victim.name(), victim.pid());
                addLine(new TimelineLine(line.uptimeNanos() + (int) report[0] * 1000L, (String) report[1], text));
            }
            if (launchd != null) {
                launchd.killed(victim, line.uptimeNanos());
            }
        }
    }

    private void addLine(TimelineLine line) {
        timeline.add(line);
        listener.line(line);
    }

    /** The kext's allocations, from the ledger's counters of its call sites. */
    private static final class KextCounter {
        private final Ledger ledger;
        private final int loadTag;
        private int sitesSeen;
        private int[] sites = new int[0];

        KextCounter(Ledger ledger, int loadTag) {
            this.ledger = ledger;
            this.loadTag = loadTag;
        }

        /** Call sites are registered when first called: look for new ones only when the table grew. */
        private int[] sites() {
            int n = ledger.siteCount();
            if (n != sitesSeen) {
                List<Integer> mine = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if (ledger.loadTag(i) == loadTag) {
                        mine.add(i);
                    }
                }
                sites = mine.stream().mapToInt(Integer::intValue).toArray();
                sitesSeen = n;
            }
            return sites;
        }

        long allocations() {
            long total = 0;
            for (int site : sites()) {
                total += ledger.totalCount(site);
            }
            return total;
        }

        long live() {
            return ledger.liveCountOfKext(loadTag);
        }
    }
}
