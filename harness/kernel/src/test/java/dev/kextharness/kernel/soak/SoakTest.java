package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.jetsam.Memorystatus;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.soak.fixtures.BalancedPerRequestKext;
import dev.kextharness.kernel.soak.fixtures.LeakPerRequestKext;
import dev.kextharness.kernel.soak.fixtures.NoRequestKext;
import dev.kextharness.kernel.soak.fixtures.ThrowingRequestKext;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The soak's whole path on a 256 MiB Mac (a 115 MiB zone map): the same code as the 32 GiB replay. */
class SoakTest {
    private static final long RAM = 256L << 20;
    private static final long CAPACITY = 120586240; // CONFIG_ZONE_MAP_MIN
    private static final Pattern PANIC = Pattern.compile("zalloc: zone map exhausted while allocating from zone (\\S+), "
            + "likely due to memory leak in zone (\\S+) \\((\\d+) total bytes, (\\d+) elements allocated\\)");
    private static final Pattern MAP_LINE = Pattern.compile(
            "zone_map_exhaustion: Zone map size (\\d+), capacity (\\d+) \\[jetsam limit 95%]");

    private static SoakResult toPanic;
    private static List<String> streamed;

    @BeforeAll
    static void runToThePanic() {
        streamed = new ArrayList<>();
        toPanic = Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM), LeakPerRequestKext.class, new SoakListener() {
            @Override
            public void line(TimelineLine line) {
                streamed.add(line.render());
            }
        });
    }

    @Test
    void endsInZallocsPanicNamingTheLargestZoneWithItsExactCounters() {
        assertThat(toPanic.reason()).isEqualTo(SoakResult.StopReason.PANIC);
        assertThat(toPanic.panic()).isNotNull().isSameAs(toPanic.kernel().panic());
        Zalloc zalloc = toPanic.kernel().zalloc();
        Zone kalloc48 = zalloc.zone("kalloc.48");
        assertThat(zalloc.largestZone()).isSameAs(kalloc48);
        Matcher m = PANIC.matcher(toPanic.panic().panicString());
        assertThat(m.matches()).as(toPanic.panic().panicString()).isTrue();
        Zone grown = zalloc.zone(m.group(1));
        assertThat(grown).isNotNull();
        assertThat(toPanic.panic().panicString()).isEqualTo("zalloc: zone map exhausted while allocating from zone "
                + grown.name() + ", likely due to memory leak in zone kalloc.48 (" + kalloc48.curSize()
                + " total bytes, " + kalloc48.count() + " elements allocated)");
        // cur_size: 85 elements of 48 bytes carved from each page of the zone.
        assertThat(kalloc48.curSize()).isEqualTo(kalloc48.mappedBytes() / 4096 * 85 * 48);
        // The zone grown could not get a chunk: the map had no room for one, or (a chunk of several pages) no
        // hole that size, the free pages being single pages that zone GC gave back.
        assertThat(zalloc.zoneMapSize() + grown.allocSize() > CAPACITY || grown.allocSize() > 4096)
                .as("%s needs %d bytes, the map has %d free", grown, grown.allocSize(), CAPACITY - zalloc.zoneMapSize())
                .isTrue();
        assertThat(toPanic.panic().panicLog()).contains("zalloc.c:3627").contains("Zone Name")
                .contains("kalloc.48");

        // Every record the kext leaked is a live kalloc.48 element the ledger counts.
        assertThat(toPanic.leakZone()).isEqualTo("kalloc.48");
        assertThat(toPanic.kextAllocations()).isEqualTo(toPanic.requests()).isEqualTo(toPanic.kextLive());
        assertThat(toPanic.kernel().snapshot().kext("dev.kextharness.test.leakperrequest").count())
                .isEqualTo(toPanic.kextLive());
        assertThat(kalloc48.count()).isGreaterThanOrEqualTo(toPanic.kextLive());
        // At 256 MiB the map holds about 1.3 million records (the 32 GiB replay: about 136 million).
        assertThat(toPanic.kextLive()).isBetween(1_100_000L, 1_500_000L);
        assertThat(streamed.get(streamed.size() - 1)).contains("panic(cpu 0 caller 0x")
                .contains("\"" + toPanic.panic().panicString() + "\"");
    }

    @Test
    void warnsWithTheThreeZoneMapExhaustionLinesOnceTheMapPassesTheJetsamLimit() {
        List<TimelineLine> kernelLines = toPanic.timeline().stream().filter(l -> l.process().equals("kernel")).toList();
        List<Integer> starts = new ArrayList<>();
        for (int i = 0; i < kernelLines.size(); i++) {
            if (kernelLines.get(i).message().startsWith("zone_map_exhaustion: Zone map size")) {
                starts.add(i);
            }
        }
        assertThat(starts).hasSizeGreaterThanOrEqualTo(3);
        for (int i : starts) {
            Matcher m = MAP_LINE.matcher(kernelLines.get(i).message());
            assertThat(m.matches()).as(kernelLines.get(i).message()).isTrue();
            assertThat(Long.parseLong(m.group(1))).isGreaterThan(CAPACITY * 95 / 100).isLessThanOrEqualTo(CAPACITY);
            assertThat(Long.parseLong(m.group(2))).isEqualTo(CAPACITY);
            assertThat(kernelLines.get(i + 1).message()).matches("zone_map_exhaustion: Largest zone kalloc\\.48, size \\d+");
            assertThat(kernelLines.get(i + 2).message()).isEqualTo("zone_map_exhaustion: Nothing to do for the largest "
                    + "zone [kalloc.48]. Waking up memorystatus thread.");
            assertThat(kernelLines.get(i + 3).message()).matches(
                    "\\d+\\.\\d{3} memorystatus: killing_highwater_process pid \\d+ \\[\\S+] \\(highwater -?\\d+\\) "
                            + "\\d+KB - memorystatus_available_pages: \\d+"
                            + "|zone_map_exhaustion: Call to memorystatus failed, victim pid: -1");
        }
        // The first warning comes with the first chunk past 95 %: before it, the map was at or under the limit.
        TimelineLine first = kernelLines.get(starts.get(0));
        long[] uptimes = toPanic.samples().uptimeNanos();
        long[] sizes = toPanic.samples().zoneMapSize();
        for (int i = 0; i < uptimes.length && uptimes[i] < first.uptimeNanos() - Background.TICK_NANOS; i++) {
            assertThat(sizes[i]).isLessThanOrEqualTo(CAPACITY * 95 / 100 + 16384);
        }
        // Lines come out in time order, stamped with the simulated wall clock, and were streamed as written.
        for (int i = 1; i < toPanic.timeline().size(); i++) {
            assertThat(toPanic.timeline().get(i).uptimeNanos()).isGreaterThanOrEqualTo(
                    toPanic.timeline().get(i - 1).uptimeNanos() - 1_000_000);
        }
        assertThat(streamed).isEqualTo(toPanic.timeline().stream().map(TimelineLine::render).toList());
        assertThat(streamed.get(starts.get(0) + 1)).matches(
                "20\\d\\d-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+0100 kernel zone_map_exhaustion: .*");
    }

    @Test
    void killsProcessesLowestBandFirstAndEachKillFreesWhatTheProcessHeld() {
        List<JetsamKill> kills = toPanic.kills();
        assertThat(kills).hasSizeGreaterThanOrEqualTo(3);
        // The lowest band is photoanalysisd's (0): the boot process first, then each of its relaunches in turn,
        // each killed before the next one is started.
        assertThat(kills).extracting(JetsamKill::name).containsOnly("photoanalysisd");
        assertThat(kills.get(0).pid()).isEqualTo(470);
        List<Relaunch> relaunches = toPanic.relaunches();
        for (int i = 1; i < kills.size(); i++) {
            assertThat(kills.get(i).pid()).isEqualTo(relaunches.get(i - 1).pid());
            assertThat(kills.get(i).uptimeNanos()).isGreaterThan(relaunches.get(i - 1).uptimeNanos());
        }
        for (JetsamKill kill : kills) {
            assertThat(kill.priority()).isZero();
            // The kill line comes before the reaping: what it held is one kalloc.4096 block per 4 MiB of footprint.
            assertThat(kill.kernelBytes()).isEqualTo(Math.max(1, kill.footprintBytes() >>> 22) * 4096);
            assertThat(toPanic.kernel().processKernelBytes(kill.pid())).isZero();
        }
        for (int i = 1; i < kills.size(); i++) {
            assertThat(kills.get(i).uptimeNanos()).isGreaterThan(kills.get(i - 1).uptimeNanos());
        }
        // Survivors (the other boot processes and the last relaunch) still hold theirs, and the ledger's site for
        // process memory counts exactly them.
        List<Memorystatus.Proc> survivors = toPanic.kernel().memorystatus().processes();
        assertThat(survivors).hasSize(10 - 1 + relaunches.size() - (kills.size() - 1));
        long survivorBlocks = survivors.stream().mapToLong(p -> Math.max(1, p.footprintBytes() >>> 22)).sum();
        assertThat(toPanic.kernel().ledger().liveCount(procSite(toPanic))).isEqualTo(survivorBlocks);

        // Each kill is followed by the user-space jetsam report, as the source article's log shows.
        List<TimelineLine> timeline = toPanic.timeline();
        int first = -1;
        for (int i = 0; i < timeline.size() && first < 0; i++) {
            if (timeline.get(i).message().contains("killing_highwater_process pid 470 [photoanalysisd] (highwater 0) "
                    + "72704KB")) {
                first = i;
            }
        }
        assertThat(first).isNotNegative();
        assertThat(timeline.subList(first + 1, first + 6)).extracting(l -> l.process() + " " + l.message())
                .containsExactly(
                        "com.apple.MemoryMonitor plugin UserEventAgent MemoryMonitor kernel jetsam snapshot note received",
                        "osanalyticshelper extending prolongation transaction timer",
                        "osanalyticshelper Attempting to write jetsam report",
                        "OSAnalytics Process photoanalysisd [470] killed by jetsam reason highwater",
                        "OSAnalytics Tagging submission policy as alternate for logtype:298");
        assertThat(timeline.get(first + 4).uptimeNanos() - timeline.get(first).uptimeNanos()).isEqualTo(628_000);
    }

    @Test
    void launchdRelaunchesEachKilledDaemonWhoseCachesFillTheLastOfTheMap() {
        List<JetsamKill> kills = toPanic.kills();
        List<Relaunch> relaunches = toPanic.relaunches();
        // Every kill of a KeepAlive job is followed by its relaunch with a new pid: at once (within the simulated
        // step of one request, 1/110 s), since each victim had run for longer than launchd's ThrottleInterval.
        assertThat(relaunches).hasSizeBetween(kills.size() - 1, kills.size());
        for (int i = 0; i < relaunches.size(); i++) {
            Relaunch relaunch = relaunches.get(i);
            JetsamKill kill = kills.get(i);
            assertThat(relaunch.killedPid()).isEqualTo(kill.pid());
            assertThat(relaunch.name()).isEqualTo(kill.name());
            assertThat(relaunch.pid()).isEqualTo(600 + i);
            assertThat(relaunch.uptimeNanos() - kill.uptimeNanos()).isBetween(0L, 1_000_000_000L / 110 + 1);
            if (i > 0) {
                assertThat(kill.uptimeNanos() - relaunches.get(i - 1).uptimeNanos())
                        .isGreaterThan(Launchd.THROTTLE_INTERVAL_NANOS);
            }
            // Its refill: its footprint, scaled by the Mac's RAM against the article's 32 GiB.
            assertThat(relaunch.refillBytes()).isEqualTo((long) (kill.footprintBytes() * ((double) RAM / (32L << 30))));
        }

        // The refills are live kalloc.12288 buffers of the kernel: each relaunch allocated until it was killed.
        Zalloc zalloc = toPanic.kernel().zalloc();
        Zone cacheZone = zalloc.zone("kalloc." + Launchd.CACHE_BUCKET);
        long cacheBuffers = toPanic.kernel().ledger().liveCount(siteNamed(toPanic, "caches refilled by a relaunched daemon"));
        assertThat(cacheBuffers).isPositive();
        assertThat(cacheZone.count()).isGreaterThanOrEqualTo(cacheBuffers);
        long cacheBytes = cacheBuffers * Launchd.CACHE_BUCKET;
        assertThat(toPanic.relaunchCacheBytes()).isEqualTo(cacheBytes);
        assertThat(cacheBytes).isLessThanOrEqualTo(relaunches.stream().mapToLong(Relaunch::refillBytes).sum()
                + (long) relaunches.size() * Launchd.CACHE_BUCKET);
        // They took a good part of the map's last 5 %, so the first warning to the panic is much shorter than the
        // leak alone needs to fill it (on a small Mac the leak is large against the map; at 32 GiB the refills take
        // nearly all of it).
        long limit = CAPACITY * 95 / 100;
        assertThat(cacheBytes).isGreaterThan((CAPACITY - limit) / 4);
        double leakAloneNanos = (CAPACITY - limit) / 48.0 / SoakConfig.DEFAULT_RATE * 1e9;
        assertThat((double) (toPanic.uptimeNanos() - kills.get(0).uptimeNanos())).isLessThan(leakAloneNanos * 3 / 4);

        // So the zone being grown when the map runs out is the refills' zone: its three-page chunks find no hole.
        Matcher m = PANIC.matcher(toPanic.panic().panicString());
        assertThat(m.matches()).isTrue();
        assertThat(m.group(1)).isEqualTo(cacheZone.name());
        assertThat(cacheZone.allocSize()).isEqualTo(3 * 4096);

        // The GC thread ran once per 1/256 of the map's growth past the limit: the kills' map sizes climb by a step.
        List<Long> sizes = toPanic.timeline().stream().map(l -> MAP_LINE.matcher(l.message())).filter(Matcher::matches)
                .map(x -> Long.parseLong(x.group(1))).toList();
        assertThat(sizes).hasSameSizeAs(kills);
        for (int i = 1; i < sizes.size(); i++) {
            assertThat(sizes.get(i) - sizes.get(i - 1)).isGreaterThanOrEqualTo(CAPACITY >>> 8);
        }
    }

    @Test
    void withoutTheBackgroundNothingIsRelaunched() {
        SoakResult r = Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM).withBackground(false).withRate(20_000),
                LeakPerRequestKext.class, SoakListener.NONE);
        assertThat(r.reason()).isEqualTo(SoakResult.StopReason.PANIC);
        assertThat(r.kills()).isNotEmpty();
        assertThat(r.relaunches()).isEmpty();
        assertThat(r.relaunchCacheBytes()).isZero();
        assertThat(r.kernel().ledger().siteCount()).isPositive();
        for (int i = 0; i < r.kernel().ledger().siteCount(); i++) {
            assertThat(r.kernel().ledger().site(i).methodName()).isNotEqualTo("caches refilled by a relaunched daemon");
        }
    }

    @Test
    void samplesStayWithinTheirBoundAndEndAtThePanic() {
        SoakSamples samples = toPanic.samples();
        assertThat(samples.size()).isBetween(100, 2 * SoakConfig.DEFAULT_MAX_SAMPLES);
        long[] uptime = samples.uptimeNanos();
        for (int i = 1; i < uptime.length; i++) {
            assertThat(uptime[i]).isGreaterThan(uptime[i - 1]);
        }
        assertThat(uptime[uptime.length - 1]).isEqualTo(toPanic.uptimeNanos());
        long[] map = samples.zoneMapSize();
        assertThat(map[map.length - 1]).isEqualTo(toPanic.kernel().zalloc().zoneMapSize());
        long[] kalloc48 = samples.zoneSize("kalloc.48");
        assertThat(kalloc48[kalloc48.length - 1]).isEqualTo(toPanic.kernel().zalloc().zone("kalloc.48").curSize());
        assertThat(kalloc48[kalloc48.length - 1]).isGreaterThan(kalloc48[0]);
        assertThatThrownBy(() -> samples.zoneSize("no.such.zone")).hasMessageContaining("no zone no.such.zone");
    }

    @Test
    void closeUpSamplesCoverTheJetsamStormFinerThanTheRunLongOnes() {
        SoakSamples closeUp = toPanic.closeUpSamples();
        long[] uptime = closeUp.uptimeNanos();
        long[] map = closeUp.zoneMapSize();
        assertThat(closeUp.size()).isBetween(100, 2 * SoakConfig.DEFAULT_MAX_SAMPLES);
        assertThat(map[0]).as("starts once the map reaches the jetsam limit").isGreaterThanOrEqualTo(toPanic.jetsamLimitBytes());
        assertThat(uptime[0]).as("before the first kill").isLessThanOrEqualTo(toPanic.kills().get(0).uptimeNanos());
        for (int i = 1; i < uptime.length; i++) {
            assertThat(uptime[i]).isGreaterThan(uptime[i - 1]);
        }
        assertThat(uptime[uptime.length - 1]).isEqualTo(toPanic.uptimeNanos());
        assertThat(map[map.length - 1]).isEqualTo(toPanic.kernel().zalloc().zoneMapSize());
        long[] runLong = toPanic.samples().uptimeNanos();
        long inWindow = java.util.Arrays.stream(runLong).filter(t -> t >= uptime[0]).count();
        assertThat((long) closeUp.size()).isGreaterThan(10 * inWindow);
    }

    @Test
    void noCloseUpSamplesWhenTheMapNeverReachesTheJetsamLimit() {
        SoakResult r = Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM).withUntil(Until.parse("100k")),
                LeakPerRequestKext.class, SoakListener.NONE);
        assertThat(r.closeUpSamples().size()).isZero();
    }

    @Test
    void stopsAfterTheNumberOfAllocationsAsked() {
        SoakResult r = Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM).withUntil(Until.parse("100k")),
                LeakPerRequestKext.class, SoakListener.NONE);
        assertThat(r.reason()).isEqualTo(SoakResult.StopReason.UNTIL);
        assertThat(r.kextAllocations()).isEqualTo(100_000);
        assertThat(r.kextLive()).isEqualTo(100_000);
        assertThat(r.panic()).isNull();
        assertThat(r.message()).contains("100000 allocations");
        // 110 requests a simulated second: 909 s for 100,000 of them.
        assertThat(r.uptimeNanos() - 10_000_000_000L).isBetween(908_000_000_000L, 910_000_000_000L);
    }

    @Test
    void stopsWhenTheZoneMapReachesTheFractionAsked() {
        SoakResult r = Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM).withUntil(Until.parse("80%"))
                        .withRate(5000).withLeakZone("kalloc.64"),
                LeakPerRequestKext.class, SoakListener.NONE);
        assertThat(r.reason()).isEqualTo(SoakResult.StopReason.UNTIL);
        long size = r.kernel().zalloc().zoneMapSize();
        assertThat(size).isGreaterThanOrEqualTo((long) Math.ceil(0.8 * CAPACITY)).isLessThan(CAPACITY * 81 / 100);
        assertThat(r.leakZone()).isEqualTo("kalloc.64");
        assertThat(r.kills()).isEmpty();
        assertThat(r.panic()).isNull();
    }

    @Test
    void aBalancedKextStallsInsteadOfRunningForever() {
        SoakResult r = Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM).withRate(1_000_000),
                BalancedPerRequestKext.class, SoakListener.NONE);
        assertThat(r.reason()).isEqualTo(SoakResult.StopReason.STALLED);
        assertThat(r.kextLive()).isZero();
        // Two windows of requests, in steps of a simulated millisecond (1000 requests).
        assertThat(r.requests()).isBetween(2 * Soak.STALL_WINDOW, 2 * Soak.STALL_WINDOW + 999);
        assertThat(r.message()).contains("would never run out");
        assertThat(r.panic()).isNull();
    }

    @Test
    void aKextWhoseRequestMethodThrowsEndsTheSoakNotTheHarness() {
        SoakResult r = Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM), ThrowingRequestKext.class,
                SoakListener.NONE);
        assertThat(r.reason()).isEqualTo(SoakResult.StopReason.KEXT_FAILED);
        assertThat(r.message()).contains("request queue corrupted");
        assertThat(r.kernel().panicked()).isFalse();
    }

    @Test
    void aKextWithoutARequestMethodIsRefusedWithTheRemedy() {
        assertThatThrownBy(() -> Soak.run(SoakConfig.defaults().withPhysicalMemory(RAM), NoRequestKext.class,
                SoakListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("NoRequestKext has no request method")
                .hasMessageContaining("handle(int requests)");
    }

    @Test
    void untilAcceptsPanicCountsAndFractionsAndNamesWhatItTakes() {
        assertThat(Until.parse("panic")).isInstanceOf(Until.Panic.class);
        assertThat(Until.parse("1_000_000")).isEqualTo(new Until.Allocations(1_000_000));
        assertThat(Until.parse("5M")).isEqualTo(new Until.Allocations(5_000_000));
        assertThat(Until.parse("0.5")).isEqualTo(new Until.MapFraction(0.5));
        assertThat(Until.parse("97.5%")).isEqualTo(new Until.MapFraction(0.975));
        for (String bad : new String[]{"soon", "", "1.5", "0", "150%", "-3"}) {
            assertThatThrownBy(() -> Until.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("--until ");
        }
        assertThatThrownBy(() -> Until.parse("soon")).hasMessage("--until takes 'panic', a number of allocations "
                + "(such as 1000000 or 5M) or a fraction of the zone map (such as 0.5 or 50%), not 'soon'");
    }

    @Test
    void badSettingsAreRefusedWithOneLineNamingTheOption() {
        SoakConfig c = SoakConfig.defaults();
        assertThatThrownBy(() -> c.withRate(0)).hasMessageStartingWith("--rate must be");
        assertThatThrownBy(() -> c.withLeakZone("kalloc.47")).hasMessageStartingWith("--zone must be one of the kalloc "
                + "zones (kalloc.16, kalloc.32, kalloc.48,").hasMessageEndingWith("not 'kalloc.47'");
        assertThatThrownBy(() -> c.withJetsamLimitPercent(0)).hasMessageContaining("1..100");
        assertThatThrownBy(() -> c.withPhysicalMemory(1L << 20)).hasMessageContaining("256 MiB");
        assertThatThrownBy(() -> c.withMaxSamples(3)).hasMessageStartingWith("--max-points");
        assertThat(c.withLeakZone("kalloc.64").recordSize()).isEqualTo(64);
    }

    @Test
    void heapEstimateCoversTheMeasuredPeakAndGrowsWithTheMap() {
        long at32g = Soak.estimatedHeapBytes(SoakConfig.defaults());
        // Measured peak heap of the 32 GiB soak: 0.67 GiB with garbage, about 0.4 GiB live (src/docs/soak.md).
        assertThat(at32g).isBetween(600L << 20, 900L << 20);
        assertThat(Soak.estimatedHeapBytes(SoakConfig.defaults().withPhysicalMemory(64L << 30)))
                .isGreaterThan(2 * at32g - (64L << 20) - 4096); // less the rounding of the background's pages
        // Smaller records: more elements, and links, per page.
        assertThat(Soak.estimatedHeapBytes(SoakConfig.defaults().withLeakZone("kalloc.16"))).isGreaterThan(at32g);
        assertThat(Soak.estimatedHeapBytes(SoakConfig.defaults().withBackground(false))).isGreaterThan(at32g);
    }

    private static int procSite(SoakResult r) {
        return siteNamed(r, "proc_alloc");
    }

    private static int siteNamed(SoakResult r, String methodName) {
        for (int i = 0; i < r.kernel().ledger().siteCount(); i++) {
            CallSite site = r.kernel().ledger().site(i);
            if (site.methodName().equals(methodName)) {
                return i;
            }
        }
        throw new AssertionError("no " + methodName + " site");
    }
}
