package dev.kextharness.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kextharness.kernel.jetsam.Memorystatus;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KernelBootTest {

    @Test
    void aDefaultBootIsA32GiBCatalinaMac() {
        Kernel kernel = Kernel.boot(KernelConfig.defaults());
        KernelConfig config = kernel.config();
        assertThat(config.physicalMemory()).isEqualTo(32L << 30);
        assertThat(config.jetsamLimitPercent()).isEqualTo(95);
        assertThat(config.findings()).isTrue();
        assertThat(kernel.zalloc().zoneMapCapacity()).isEqualTo(12L << 30); // 32 GiB / 4 * 1.5
        assertThat(kernel.kallocMap().capacity()).isEqualTo(1L << 30); // 32 GiB / 32
        assertThat(kernel.zalloc().jetsamLimitPercent()).isEqualTo(95);
        assertThat(kernel.panicked()).isFalse();
        assertThat(kernel.panic()).isNull();
        kernel.checkAlive();
    }

    @Test
    void bootCreatesTheKallocZonesThenTheMbufZone() {
        Kernel kernel = Kernel.boot();
        List<String> names = kernel.zalloc().zones().stream().map(Zone::name).toList();
        assertThat(names.subList(0, 28)).containsExactly("kalloc.16", "kalloc.32", "kalloc.48", "kalloc.64",
                "kalloc.80", "kalloc.96", "kalloc.128", "kalloc.160", "kalloc.192", "kalloc.224", "kalloc.256",
                "kalloc.288", "kalloc.368", "kalloc.400", "kalloc.512", "kalloc.576", "kalloc.768", "kalloc.1024",
                "kalloc.1152", "kalloc.1280", "kalloc.1664", "kalloc.2048", "kalloc.4096", "kalloc.6144",
                "kalloc.8192", "kalloc.12288", "kalloc.16384", "mbuf");
        assertThat(names).doesNotHaveDuplicates();
    }

    @Test
    void bootProcessesHoldKernelMemory() {
        Kernel kernel = Kernel.boot();
        List<Memorystatus.Proc> procs = kernel.memorystatus().processes();
        assertThat(procs).extracting(Memorystatus.Proc::name).containsExactly("launchd", "WindowServer",
                "loginwindow", "Finder", "Dock", "mds_stores", "lsd", "cloudd", "photoanalysisd", "Safari");
        assertThat(kernel.memorystatus().killed()).isEmpty();
        long elements = procs.stream().mapToLong(p -> Math.max(1, p.footprintBytes() >>> 22)).sum();
        assertThat(elements).isEqualTo(319);
        assertThat(kernel.zalloc().zone("kalloc.4096").count()).isGreaterThanOrEqualTo(319);
        assertThat(kernel.zalloc().zoneMapSize()).isGreaterThanOrEqualTo(319 * 4096L);
        long zoneTotal = kernel.zalloc().zones().stream().mapToLong(Zone::curSize).sum();
        assertThat(kernel.zalloc().zoneMapSize()).isEqualTo(zoneTotal);
    }

    @ParameterizedTest(name = "{0} bytes of RAM -> zone map {1}, kalloc_map {2}")
    @CsvSource({
            "268435456, 120586240, 16777216",       // 256 MiB: CONFIG_ZONE_MAP_MIN, KALLOC_MAP_SIZE_MIN
            "1073741824, 402653184, 33554432",      // 1 GiB
            "8589934592, 3221225472, 268435456",    // 8 GiB -> 3 GiB
            "17179869184, 6442450944, 536870912",   // 16 GiB -> 6 GiB
            "274877906944, 68719476736, 8589934592"}) // 256 GiB: capped at 64 GiB
    void zoneMapAndKallocMapAreSizedFromRam(long ram, long zoneMap, long kallocMap) {
        assertThat(Zalloc.zoneMapCapacityFor(ram)).isEqualTo(zoneMap);
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withPhysicalMemory(ram));
        assertThat(kernel.zalloc().zoneMapCapacity()).isEqualTo(zoneMap);
        assertThat(kernel.kallocMap().capacity()).isEqualTo(kallocMap);
    }

    @Test
    void theZsizeBootArgOverridesTheZoneMapSize() {
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withZoneMapSize((200L << 20) + 1));
        assertThat(kernel.zalloc().zoneMapCapacity()).isEqualTo((200L << 20) + 4096);
    }

    @ParameterizedTest(name = "zsize {0} on {1} bytes of RAM -> zone map {2}")
    @CsvSource({
            "1048576, 34359738368, 120586240",          // 1 MiB: raised to CONFIG_ZONE_MAP_MIN
            "120586239, 34359738368, 120586240",        // a byte short of the minimum
            "21474836480, 34359738368, 17179869184",    // 20 GiB on 32 GiB: half the RAM
            "107374182400, 274877906944, 68719476736",  // 100 GiB on 256 GiB: 64 GiB
            "4294967296, 8589934592, 4294967296"})      // 4 GiB on 8 GiB: exactly half, kept
    void theZsizeBootArgIsClampedAsXnuClampsIt(long zsize, long ram, long zoneMap) {
        assertThat(Zalloc.zoneMapCapacityFor(ram, zsize)).isEqualTo(zoneMap);
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withPhysicalMemory(ram).withZoneMapSize(zsize));
        assertThat(kernel.zalloc().zoneMapCapacity()).isEqualTo(zoneMap);
    }

    @Test
    void configRejectsImpossibleValues() {
        assertThatThrownBy(() -> KernelConfig.defaults().withPhysicalMemory(128L << 20))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KernelConfig.defaults().withJetsamLimitPercent(0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KernelConfig.defaults().withJetsamLimitPercent(101))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KernelConfig.defaults().withZoneMapSize(-1))
                .isInstanceOf(IllegalArgumentException.class);
        KernelConfig c = KernelConfig.defaults().withJetsamLimitPercent(80).withFindings(false).withBootSeed(9);
        assertThat(c.jetsamLimitPercent()).isEqualTo(80);
        assertThat(c.findings()).isFalse();
        assertThat(c.bootSeed()).isEqualTo(9);
        assertThat(KernelConfig.defaults().findings()).isTrue(); // defaults are untouched
        assertThat(Kernel.boot(c).zalloc().jetsamLimitPercent()).isEqualTo(80);
    }

    @Test
    void afterAPanicTheKernelRefusesCalls() {
        TestKernel t = TestKernel.boot();
        KernelPanic panic = t.assertPanics(() -> t.malloc(1, 200, 0), "_malloc TYPE");
        assertThatThrownBy(t.kernel::checkAlive).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("This kernel has panicked (_malloc TYPE)")
                .hasCause(panic);
        // The kernel remembers the first panic: later ones report it again.
        KernelPanic second = TestKernel.panicOf(() -> t.free(0, 300));
        assertThat(second).isSameAs(panic);
        assertThat(second.panicString()).isEqualTo("_malloc TYPE");
        assertThat(panic.getMessage()).isEqualTo("panic: _malloc TYPE");
        assertThat(panic.ledger()).isNotNull();
    }

    @Test
    void advancingTheClock() {
        Kernel kernel = Kernel.boot();
        long t0 = kernel.uptimeNanos();
        kernel.advanceClock(5);
        assertThat(kernel.uptimeNanos()).isEqualTo(t0 + 5);
        assertThatThrownBy(() -> kernel.advanceClock(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
