package dev.kextharness.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.vm.AddressSpace;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The RAM a simulated Mac may have, and the address layout it gives: for every accepted size the
 * zone map, kalloc_map and the rest of kernel_map lie in that order without overlapping, so an
 * address belongs to one map only (at 4 TiB kalloc_map used to run into kernel_map, and a
 * balanced 1 MiB _MALLOC/_FREE panicked).
 */
class AddressLayoutTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;

    @Test
    void everyAcceptedRamGivesDisjointMapsInOrder() {
        int checked = 0;
        for (long ram = AddressSpace.MIN_PHYSICAL_MEMORY; ram <= AddressSpace.MAX_PHYSICAL_MEMORY; ram += 128 * MIB) {
            KernelConfig config = KernelConfig.defaults().withPhysicalMemory(ram);
            assertDisjoint(config);
            // The zsize boot-arg at both ends of what it accepts.
            assertDisjoint(config.withZoneMapSize(1));
            assertDisjoint(config.withZoneMapSize(Long.MAX_VALUE / 2));
            checked++;
        }
        assertThat(checked).isEqualTo((int) ((AddressSpace.MAX_PHYSICAL_MEMORY - AddressSpace.MIN_PHYSICAL_MEMORY)
                / (128 * MIB)) + 1);
    }

    private static void assertDisjoint(KernelConfig config) {
        AddressSpace.Layout l = Kernel.layoutFor(config);
        String what = config.physicalMemory() + " bytes of RAM, zsize " + config.zoneMapSize();
        assertThat(Long.compareUnsigned(l.zoneMapStart(), l.zoneMapEnd())).as(what).isNegative();
        assertThat(Long.compareUnsigned(l.zoneMapEnd(), l.kallocMapStart())).as(what).isNotPositive();
        assertThat(Long.compareUnsigned(l.kallocMapStart(), l.kallocMapEnd())).as(what).isNegative();
        assertThat(Long.compareUnsigned(l.kallocMapEnd(), l.kernelMapStart())).as(what).isNotPositive();
        assertThat(Long.compareUnsigned(l.kernelMapStart(), l.kernelMapEnd())).as(what).isNegative();
        // kalloc_map is 1/32 of RAM, at least 16 MiB, as kalloc_init sizes it on LP64.
        assertThat(l.kallocMapEnd() - l.kallocMapStart())
                .isEqualTo(Math.max(config.physicalMemory() >> 5, 16 * MIB))
                .isEqualTo(Kalloc.kallocMapSize(config.physicalMemory()));
    }

    @ParameterizedTest(name = "{0} bytes of RAM")
    @ValueSource(longs = {256L << 20, 1536L << 30})
    void aBalancedOneMebibyteMallocAndFreeRunsAtBothEndsOfTheRange(long ram) {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withPhysicalMemory(ram));
        long block = t.malloc(MIB, TestKernel.M_WAITOK);
        assertThat(block).isNotZero();
        t.free(block);
        assertThat(t.kernel.panicked()).isFalse();
        assertThat(t.kernel.kallocMap().capacity()).isEqualTo(Math.max(ram >> 5, 16 * MIB));
    }

    @Test
    void ramAboveTheLargestMacIsRefusedInOneLine() {
        assertThatThrownBy(() -> KernelConfig.defaults().withPhysicalMemory(4L << 40))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("physical memory of 4 TiB is more than a Mac can have: give at most 1.5 TiB (1536G; "
                        + "xnu-6153 uses no more, K64_MAXMEM, and the largest Mac Pro has that much)");
        assertThatThrownBy(() -> KernelConfig.defaults().withPhysicalMemory(AddressSpace.MAX_PHYSICAL_MEMORY + 1))
                .hasMessageStartingWith("physical memory of 1649267441665 bytes is more than a Mac can have");
    }

    @Test
    void ramBelowTheSmallestIsRefusedInOneLine() {
        assertThatThrownBy(() -> KernelConfig.defaults().withPhysicalMemory(128 * MIB))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("physical memory of 128 MiB is too small: give at least 256 MiB (XNU needs a 115 MiB "
                        + "zone map; Macs that run Catalina have 4 GiB or more, and the maxmem boot-arg boots them "
                        + "with less)");
        assertThat(KernelConfig.defaults().withPhysicalMemory(AddressSpace.MIN_PHYSICAL_MEMORY).physicalMemory())
                .isEqualTo(256 * MIB);
        assertThat(KernelConfig.defaults().withPhysicalMemory(1536 * GIB).physicalMemory())
                .isEqualTo(AddressSpace.MAX_PHYSICAL_MEMORY);
    }
}
