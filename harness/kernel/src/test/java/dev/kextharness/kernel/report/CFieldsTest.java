package dev.kextharness.kernel.report;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** C results were checked against glibc's printf. */
class CFormatTest {

    @Test
    void fixedRoundsTheExactBinaryValueHalfToEven() {
        assertThat(CFields.fixed(0.125, 2)).isEqualTo("0.12");
        assertThat(CFields.fixed(0.375, 2)).isEqualTo("0.38");
        assertThat(CFields.fixed(2.675, 2)).isEqualTo("2.67");
        assertThat(CFields.fixed(1536.0, 2)).isEqualTo("1536.00");
    }

    @Test
    void alternateHexHasNoPrefixForZero() {
        assertThat(CFields.altHex(0)).isEqualTo("0");
        assertThat(CFields.altHex(0x42000)).isEqualTo("0x42000");
        assertThat(CFields.pointer(0xffffff801d600000L)).isEqualTo("0xffffff801d600000");
        assertThat(CFields.zeroPaddedHex(0x1d400000, 16)).isEqualTo("0x000000001d400000");
    }

    @Test
    void unsignedValues() {
        assertThat(CFields.unsigned(-1)).isEqualTo("18446744073709551615");
        assertThat(CFields.udiv(-1, 1024)).isEqualTo(18014398509481983L);
        assertThat(CFields.unsignedToDouble(-1)).isEqualTo(18446744073709551616.0);
        assertThat(CFields.unsignedToDouble(5)).isEqualTo(5.0);
    }

    @Test
    void padding() {
        assertThat(CFields.right("ab", 4)).isEqualTo("  ab");
        assertThat(CFields.left("ab", 4)).isEqualTo("ab  ");
        assertThat(CFields.left("abcdef", 4)).isEqualTo("abcdef");
    }
}
