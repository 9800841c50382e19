package dev.kextharness.kernel.zalloc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The element index by reciprocal agrees with the division for every offset of every chunk shape. */
class ZoneIndexTest {

    @Test
    void indexOfIsTheQuotientForEveryOffsetOfAChunk() {
        for (long elemSize = 16; elemSize <= 16384; elemSize += 8) {
            long allocSize = Zalloc.chunkSizeFor(elemSize);
            Zone zone = new Zone("test." + elemSize, elemSize, allocSize, allocSize);
            for (long offset = 0; offset < allocSize; offset += offset % 8 == 0 ? 7 : 1) {
                assertThat(zone.indexOf(offset)).as("%d / %d", offset, elemSize).isEqualTo((int) (offset / elemSize));
            }
        }
    }

    @Test
    void largeElementsFallBackToTheDivision() {
        Zone zone = new Zone("test.big", 3L << 20, 3L << 20, 3L << 20);
        assertThat(zone.indexOf((3L << 20) - 1)).isZero();
        assertThat(zone.indexOf(3L << 20)).isEqualTo(1);
    }
}
