package dev.kextharness.kernel.jetsam;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.log.KernelLog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemorystatusTest {

    @Test
    void killsTheLowestBandFirstAndTheLargestWithinABand() {
        long[] now = {1_238_233_930_000_000L};
        KernelLog log = new KernelLog(() -> now[0]);
        Memorystatus ms = new Memorystatus(log, () -> now[0], () -> 4176741);
        List<Memorystatus.Proc> reaped = new ArrayList<>();
        ms.setOnKill(reaped::add);
        Memorystatus.catalinaBootProcesses().forEach(ms::spawn);
        assertThat(ms.processes()).hasSize(10);

        List<String> order = new ArrayList<>();
        Memorystatus.Proc p;
        while ((p = ms.killOne("highwater")) != null) {
            order.add(p.name());
        }
        assertThat(order).containsExactly("photoanalysisd", "lsd", "cloudd", "mds_stores", "Safari", "Finder", "Dock",
                "loginwindow", "WindowServer", "launchd");
        assertThat(ms.processes()).isEmpty();
        assertThat(ms.killed()).extracting(Memorystatus.Proc::name).isEqualTo(order);
        assertThat(reaped).isEqualTo(ms.killed());
        // The source article's line, character for character.
        assertThat(log.lines().get(1).text()).isEqualTo("1238233.930 memorystatus: killing_highwater_process pid 415 "
                + "[lsd] (highwater 3) 107552KB - memorystatus_available_pages: 4176741");
        assertThat(log.lines()).hasSize(10);
    }

    @Test
    void otherCausesAreLoggedAsTopProcessKills() {
        KernelLog log = new KernelLog(() -> 2_500_000_000L);
        Memorystatus ms = new Memorystatus(log, () -> 2_500_000_000L, () -> 7);
        ms.spawn(new Memorystatus.Proc(42, "leaker", 5, 3L << 20));
        assertThat(ms.killOne("zone-map-exhaustion").pid()).isEqualTo(42);
        assertThat(log.lines().get(0).text()).isEqualTo("2.500 memorystatus: killing_top_process pid 42 [leaker] "
                + "(zone-map-exhaustion 5) 3072KB - memorystatus_available_pages: 7");
        assertThat(ms.killOne("zone-map-exhaustion")).isNull();
    }
}
