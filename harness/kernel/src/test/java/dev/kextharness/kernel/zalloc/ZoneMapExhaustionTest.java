package dev.kextharness.kernel.zalloc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.jetsam.Memorystatus;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.panic.KernelPanic;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Fact sheet §6.2–6.3: a leak in kalloc.48 runs a 256 MiB Mac's 115 MiB zone map out. */
class ZoneMapExhaustionTest {
    private static final long ZONE_MAP_MIN = 120586240; // CONFIG_ZONE_MAP_MIN, 115 MiB
    private static final Pattern KILL = Pattern.compile(
            "(\\d+)\\.(\\d{3}) memorystatus: killing_highwater_process pid (\\d+) \\[([^\\]]+)\\] \\(highwater (-?\\d+)\\) "
                    + "(\\d+)KB - memorystatus_available_pages: (\\d+)");

    /** What the pressure handler printed, with the values the zone map had at that moment. */
    private record Pressure(List<String> lines, List<String> expected) {
    }

    @Test
    void leakInKalloc48EndsInTheZoneMapExhaustedPanic() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withPhysicalMemory(256L << 20));
        Zalloc zalloc = t.kernel.zalloc();
        assertThat(zalloc.zoneMapCapacity()).isEqualTo(ZONE_MAP_MIN);
        assertThat(zalloc.jetsamLimitPercent()).isEqualTo(95);
        Zone kalloc48 = t.zone("kalloc.48");
        long base48 = kalloc48.count();
        long base4096 = t.zone("kalloc.4096").liveCount();
        int procSite = procSite(t);
        List<Memorystatus.Proc> bootProcs = t.kernel.memorystatus().processes();
        assertThat(bootProcs).hasSize(10);
        assertThat(t.kernel.ledger().liveCount(procSite)).isEqualTo(elementsOf(bootProcs));

        // Capture each line as it is printed, with what the kernel's state says it must be.
        List<String> exhaustionLines = new ArrayList<>();
        List<String> expectedLines = new ArrayList<>();
        t.kernel.log().addListener(line -> {
            String text = line.text();
            if (text.startsWith("zone_map_exhaustion: Zone map size")) {
                exhaustionLines.add(text);
                expectedLines.add(String.format("zone_map_exhaustion: Zone map size %d, capacity %d [jetsam limit 95%%]",
                        zalloc.zoneMapSize(), ZONE_MAP_MIN));
            } else if (text.startsWith("zone_map_exhaustion: Largest zone")) {
                exhaustionLines.add(text);
                Zone largest = zalloc.largestZone();
                assertThat(largest).isSameAs(kalloc48);
                expectedLines.add("zone_map_exhaustion: Largest zone kalloc.48, size " + largest.curSize());
            } else if (text.startsWith("zone_map_exhaustion: Nothing to do")) {
                exhaustionLines.add(text);
                expectedLines.add("zone_map_exhaustion: Nothing to do for the largest zone [kalloc.48]. "
                        + "Waking up memorystatus thread.");
            }
        });

        long leaked = 0;
        KernelPanic panic = null;
        try {
            long limit = ZONE_MAP_MIN / 48;
            while (leaked <= limit) {
                t.kalloc(48);
                leaked++;
            }
        } catch (KernelPanic p) {
            panic = p;
        }

        assertThat(panic).as("the zone map must run out").isNotNull();
        // The panic names the zone being grown and the largest zone, with its size and count right now.
        assertThat(kalloc48.count()).isEqualTo(base48 + leaked);
        assertThat(panic.panicString()).isEqualTo("zalloc: zone map exhausted while allocating from zone kalloc.48, "
                + "likely due to memory leak in zone kalloc.48 (" + kalloc48.curSize() + " total bytes, "
                + kalloc48.count() + " elements allocated)");
        // cur_size counts the 85 elements carved from each page (85 x 48 = 4080 bytes a page), as the
        // article's 6586956000 = 48 x 85 x 1614450 does.
        assertThat(kalloc48.curSize()).isEqualTo((kalloc48.count() + 84) / 85 * 85 * 48);
        assertThat(kalloc48.mappedBytes()).isEqualTo((kalloc48.count() + 84) / 85 * 4096);
        assertThat(zalloc.zoneMapSize() + 4096).isGreaterThan(ZONE_MAP_MIN);
        assertThat(t.kernel.panic()).isSameAs(panic);
        assertThat(t.kernel.ledger().liveCount(t.site("kalloc"))).isEqualTo(leaked);

        // The three zone_map_exhaustion lines, in order, each time the GC thread ran.
        assertThat(exhaustionLines).isNotEmpty();
        assertThat(exhaustionLines.size() % 3).isZero();
        assertThat(exhaustionLines).isEqualTo(expectedLines);
        for (int i = 0; i < exhaustionLines.size(); i += 3) {
            assertThat(exhaustionLines.get(i)).startsWith("zone_map_exhaustion: Zone map size ");
            assertThat(exhaustionLines.get(i + 1)).startsWith("zone_map_exhaustion: Largest zone ");
            assertThat(exhaustionLines.get(i + 2)).startsWith("zone_map_exhaustion: Nothing to do ");
        }
        Matcher first = Pattern.compile("zone_map_exhaustion: Zone map size (\\d+), capacity (\\d+) \\[jetsam limit 95%]")
                .matcher(exhaustionLines.get(0));
        assertThat(first.matches()).isTrue();
        // The GC thread is first woken by the growth that takes the map past capacity * 95 / 100
        // (114556928 bytes): every chunk here is one page, so at 114561024 bytes.
        assertThat(ZONE_MAP_MIN * 95 / 100).isEqualTo(114556928);
        assertThat(exhaustionLines.get(0))
                .isEqualTo("zone_map_exhaustion: Zone map size 114561024, capacity 120586240 [jetsam limit 95%]");

        // memorystatus killed from the lowest band up, largest first within a band, and logged each kill.
        List<Memorystatus.Proc> killed = t.kernel.memorystatus().killed();
        assertThat(killed).isNotEmpty();
        List<Memorystatus.Proc> order = new ArrayList<>(bootProcs);
        order.sort(Comparator.comparingInt(Memorystatus.Proc::priority)
                .thenComparing(Comparator.comparingLong(Memorystatus.Proc::footprintBytes).reversed()));
        assertThat(killed).isEqualTo(order.subList(0, killed.size()));
        assertThat(killed.get(0).name()).isEqualTo("photoanalysisd");
        assertThat(killed.get(1).name()).isEqualTo("lsd");
        List<String> killLines = t.kernel.log().lines().stream().map(l -> l.text())
                .filter(s -> s.contains("memorystatus: killing")).toList();
        assertThat(killLines).hasSize(killed.size());
        for (int i = 0; i < killed.size(); i++) {
            Memorystatus.Proc proc = killed.get(i);
            Matcher m = KILL.matcher(killLines.get(i));
            assertThat(m.matches()).as(killLines.get(i)).isTrue();
            assertThat(m.group(1) + "." + m.group(2)).isEqualTo("10.000");
            assertThat(Integer.parseInt(m.group(3))).isEqualTo(proc.pid());
            assertThat(m.group(4)).isEqualTo(proc.name());
            assertThat(Integer.parseInt(m.group(5))).isEqualTo(proc.priority());
            assertThat(Long.parseLong(m.group(6))).isEqualTo(proc.footprintBytes() >> 10);
        }
        assertThat(killLines.get(1)).startsWith("10.000 memorystatus: killing_highwater_process pid 415 [lsd] "
                + "(highwater 3) 107552KB - memorystatus_available_pages: ");
        // Every GC run without a victim left says so.
        int runs = exhaustionLines.size() / 3;
        long failures = t.kernel.log().lines().stream()
                .filter(l -> l.text().equals("zone_map_exhaustion: Call to memorystatus failed, victim pid: -1")).count();
        assertThat(killed.size() + failures).isEqualTo(runs);

        // The killed processes' kernel memory went back to kalloc.4096.
        List<Memorystatus.Proc> survivors = t.kernel.memorystatus().processes();
        assertThat(survivors).hasSize(bootProcs.size() - killed.size());
        assertThat(t.kernel.ledger().liveCount(procSite)).isEqualTo(elementsOf(survivors));
        assertThat(t.zone("kalloc.4096").liveCount()).isEqualTo(base4096 - elementsOf(killed));

        // A panicked kernel refuses further calls.
        assertThatThrownBy(t.kernel::checkAlive).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("panicked")
                .hasMessageContaining("zalloc: zone map exhausted while allocating from zone kalloc.48")
                .hasCause(panic);
        assertThat(t.kernel.panicked()).isTrue();
    }

    @Test
    void aJetsamLimitOf80PercentWakesTheGcThreadOnceTheMapPasses80PercentAndNotBefore() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withPhysicalMemory(256L << 20).withJetsamLimitPercent(80));
        Zalloc zalloc = t.kernel.zalloc();
        assertThat(zalloc.jetsamLimitPercent()).isEqualTo(80);
        long limit = ZONE_MAP_MIN * 80 / 100;
        assertThat(limit).isEqualTo(96468992); // 23552 pages exactly
        List<String> sizeLines = new ArrayList<>();
        List<Long> sizeWhenLogged = new ArrayList<>();
        t.kernel.log().addListener(line -> {
            if (line.text().startsWith("zone_map_exhaustion: Zone map size")) {
                sizeLines.add(line.text());
                sizeWhenLogged.add(zalloc.zoneMapSize());
            }
        });

        long leaked = 0;
        long sizeBefore = zalloc.zoneMapSize();
        while (sizeLines.isEmpty()) {
            assertThat(sizeBefore).as("zone map size before leak %d", leaked).isLessThanOrEqualTo(limit);
            assertThat(leaked).as("the GC thread never woke").isLessThan(ZONE_MAP_MIN / 48);
            t.kalloc(48);
            leaked++;
            if (sizeLines.isEmpty()) {
                sizeBefore = zalloc.zoneMapSize();
            }
        }

        // Exactly one line, printed by the allocation whose one-page chunk took the map past 80 %.
        assertThat(sizeLines).containsExactly(
                "zone_map_exhaustion: Zone map size 96473088, capacity 120586240 [jetsam limit 80%]");
        assertThat(sizeWhenLogged.get(0)).isGreaterThan(limit).isEqualTo(sizeBefore + 4096)
                .isLessThan(ZONE_MAP_MIN * 95 / 100);
        assertThat(t.kernel.memorystatus().killed()).hasSize(1);
        assertThat(t.kernel.panicked()).isFalse();
    }

    private static long elementsOf(List<Memorystatus.Proc> procs) {
        return procs.stream().mapToLong(p -> Math.max(1, p.footprintBytes() >>> 22)).sum();
    }

    private static int procSite(TestKernel t) {
        for (int i = 0; i < t.kernel.ledger().siteCount(); i++) {
            CallSite site = t.kernel.ledger().site(i);
            if (site.methodName().equals("proc_alloc")) {
                return i;
            }
        }
        throw new AssertionError("no proc_alloc site");
    }
}
