package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The ordinary zone use next to the leak: its share of the map and its hourly zone collection. */
class BackgroundTest {
    private static final long MINUTE = Background.TICK_NANOS;

    private static Kernel kernel() {
        return Kernel.boot(KernelConfig.defaults().withPhysicalMemory(1L << 30));
    }

    @Test
    void fillsItsShareOfTheMap() {
        Kernel kernel = kernel();
        long before = kernel.zalloc().zoneMapSize();
        new Background(kernel, kernel.uptimeNanos()).fill(kernel.uptimeNanos());
        double share = (double) (kernel.zalloc().zoneMapSize() - before) / kernel.zalloc().zoneMapCapacity();
        // 44 % on average, as the source article's zones other than kalloc.48 (5.70 GB of 12 GiB); the levels swing.
        assertThat(Background.mapFraction()).isBetween(0.43, 0.45);
        assertThat(share).isBetween(Background.mapFraction() - 0.01, Background.mapFraction() + 0.02);
    }

    @Test
    void theChunksFallingLevelsEmptyGoBackToTheMapEveryHour() {
        // Two identical Macs: one just before the hourly collection, one just after it.
        long beforeCollection = collectNowAfter(59 * MINUTE);
        long afterCollection = collectNowAfter(60 * MINUTE);
        assertThat(beforeCollection).as("empty chunks piled up over 59 minutes").isPositive();
        assertThat(afterCollection).as("the collection on the hour took them").isZero();
        assertThat(Background.ZONE_GC_NANOS).isEqualTo(60 * MINUTE);
    }

    /** Runs the background for {@code nanos}, then collects: the bytes the background's own collections left. */
    private static long collectNowAfter(long nanos) {
        Kernel kernel = kernel();
        long start = kernel.uptimeNanos();
        Background background = new Background(kernel, start);
        background.fill(start);
        background.advanceTo(start + nanos);
        return kernel.zalloc().zoneGc();
    }
}
