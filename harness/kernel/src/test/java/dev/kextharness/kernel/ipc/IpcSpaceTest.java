package dev.kextharness.kernel.ipc;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** ie_bits arithmetic of xnu-6153's ipc_entry.h. */
class IpcSpaceTest {

    @Test
    void generationsStepByFourInTheTopByteAndWrapToThree() {
        int bits = IpcSpace.IE_BITS_GEN_MASK; // a never-used entry
        int[] seen = new int[70];
        for (int i = 0; i < seen.length; i++) {
            bits = IpcSpace.newGen(bits);
            seen[i] = bits >>> 24;
        }
        assertThat(seen).startsWith(0x03, 0x07, 0x0b, 0x0f);
        assertThat(seen[62]).isEqualTo(0xfb);
        assertThat(seen[63]).isEqualTo(0xff);
        assertThat(seen[64]).isEqualTo(0x03); // a period of 64 with rollover selector 0
    }

    @Test
    void aNameIsIndexShiftedEightOrTheGenerationByte() {
        assertThat(IpcSpace.name(1, 0x03000000)).isEqualTo(0x103);
        assertThat(IpcSpace.name(0x1234, 0xff000000 | 0x30000 | 7)).isEqualTo(0x1234ff);
        assertThat(IpcSpace.urefs(0x07130005)).isEqualTo(5);
        assertThat(IpcSpace.type(0x07130005)).isEqualTo(0x130000);
    }
}
