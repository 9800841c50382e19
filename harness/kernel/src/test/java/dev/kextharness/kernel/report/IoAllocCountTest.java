package dev.kextharness.kernel.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Expected lines were printed by a C program using ioalloccount's printf formats. */
class IoAllocCountTest {

    @Test
    void fourCountersInIoalloccountOrder() {
        assertThat(IoAllocCount.render(new IoAllocCounters(0x12a3c0, 1023, 0, -16)))
                .isEqualTo("   Instance allocation = 0x0012a3c0 = 1192 K\n"
                        + "  Container allocation = 0x000003ff =    0 K\n"
                        + "   IOMalloc allocation = 0x00000000 =    0 K\n"
                        + "   Pageable allocation = 0xfffffffffffffff0 = 18014398509481983 K\n");
    }

    @Test
    void singleLine() {
        assertThat(IoAllocCount.line(IoAllocCount.IOMALLOC, 48 * 1024))
                .isEqualTo("   IOMalloc allocation = 0x0000c000 =   48 K\n");
        assertThat(IoAllocCount.render(1, 2, 3, 4)).startsWith("   Instance allocation = 0x00000001 =    0 K\n");
    }
}
