package dev.kextharness.cli.soak;

import dev.kextharness.kernel.soak.JetsamKill;
import dev.kextharness.kernel.soak.Soak;
import dev.kextharness.kernel.soak.SoakConfig;
import dev.kextharness.kernel.soak.SoakListener;
import dev.kextharness.kernel.soak.SoakResult;
import dev.kextharness.kernel.soak.Until;
import dev.kextharness.samples.slowleak.SlowLeakKext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

import static org.assertj.core.api.Assertions.assertThat;

/** The soak chart's panels, checked on the data handed to XChart (not on pixels), for a 256 MiB Mac. */
class SoakChartTest {
    private static SoakResult toPanic;
    private static List<XYChart> panels;

    @BeforeAll
    static void soakToThePanic() {
        System.setProperty("java.awt.headless", "true");
        toPanic = Soak.run(SoakConfig.defaults().withPhysicalMemory(256L << 20), SlowLeakKext.class, SoakListener.NONE);
        panels = SoakChart.build(toPanic, "slowleak", "256M");
    }

    @Test
    void aRunThatReachedTheJetsamLimitHasTheWholeRunAndTheCloseUp() {
        assertThat(toPanic.kills()).hasSizeGreaterThan(1);
        assertThat(panels).hasSize(2);
        String kills = "jetsam kill (" + toPanic.kills().size() + ")";
        assertThat(panels.get(0).getSeriesCollection()).extracting(XYSeries::getName)
                .contains("zone map size", "kalloc.48", "capacity", kills);
        assertThat(panels.get(1).getSeriesCollection()).extracting(XYSeries::getName)
                .containsExactly("zone map size", "capacity", "jetsam limit (95%)", kills);
        assertThat(panels.get(1).getTitle()).startsWith("Close-up: the jetsam kills").endsWith("to the panic");
    }

    @Test
    void theCloseUpSpansTheFirstWarningToThePanicWithAMargin() {
        long warning = SoakChart.firstWarning(toPanic).orElseThrow();
        assertThat(warning).isEqualTo(toPanic.kills().get(0).uptimeNanos());
        XYChart closeUp = panels.get(1);
        double panicMinute = (toPanic.uptimeNanos() - warning) / 60e9;
        assertThat(closeUp.getStyler().getXAxisMin()).isNegative();
        assertThat(closeUp.getStyler().getXAxisMax()).isGreaterThan(panicMinute);
        // The margins are a few percent of the window, not the two weeks before it.
        assertThat(-closeUp.getStyler().getXAxisMin()).isLessThan(0.1 * panicMinute);

        double[] map = closeUp.getSeries("zone map size").getXData();
        assertThat(map.length).as("finer than the run-long samples").isGreaterThan(100);
        assertStrictlyIncreasingWithin(map, closeUp);
        assertThat(map[map.length - 1]).isEqualTo(panicMinute);
    }

    @Test
    void eachKillIsItsOwnMarkerInTheCloseUp() {
        XYChart closeUp = panels.get(1);
        XYSeries kills = closeUp.getSeries("jetsam kill (" + toPanic.kills().size() + ")");
        double[] x = kills.getXData();
        double[] y = kills.getYData();
        assertThat(x).hasSize(toPanic.kills().size());
        assertStrictlyIncreasingWithin(x, closeUp);
        double window = closeUp.getStyler().getXAxisMax() - closeUp.getStyler().getXAxisMin();
        for (int i = 1; i < x.length; i++) {
            assertThat(x[i] - x[i - 1]).as("kill %d apart from the one before", i).isGreaterThan(0.02 * window);
        }
        // Each marker sits on the map's line, between the jetsam limit's neighbourhood and the capacity.
        double mib = 1 << 20;
        for (double size : y) {
            assertThat(size).isGreaterThan(0.9 * toPanic.jetsamLimitBytes() / mib)
                    .isLessThanOrEqualTo(toPanic.zoneMapCapacity() / mib);
        }
        JetsamKill first = toPanic.kills().get(0);
        assertThat(x[0]).isEqualTo((first.uptimeNanos() - SoakChart.firstWarning(toPanic).orElseThrow()) / 60e9);
    }

    @Test
    void theFilesHoldBothPanelsOneAboveTheOther(@TempDir Path dir) throws IOException {
        List<Path> written = SoakChart.write(panels, dir.resolve("soak"), true, true);

        assertThat(written).containsExactly(dir.resolve("soak.png"), dir.resolve("soak.svg"));
        BufferedImage png = ImageIO.read(dir.resolve("soak.png").toFile());
        XYChart first = panels.get(0);
        assertThat(png.getWidth()).isEqualTo(first.getWidth());
        assertThat(png.getHeight()).isEqualTo(first.getHeight() + panels.get(1).getHeight());
        assertThat(Files.readString(dir.resolve("soak.svg")))
                .contains("viewBox=\"0 0 " + first.getWidth() + " " + png.getHeight() + "\"");
    }

    @Test
    void aRunThatNeverWarnedHasOnlyTheWholeRun() {
        SoakResult quiet = Soak.run(SoakConfig.defaults().withPhysicalMemory(256L << 20).withUntil(Until.parse("20k")),
                SlowLeakKext.class, SoakListener.NONE);

        assertThat(SoakChart.firstWarning(quiet)).isEmpty();
        assertThat(SoakChart.build(quiet, "slowleak", "256M")).hasSize(1);
    }

    private static void assertStrictlyIncreasingWithin(double[] x, XYChart chart) {
        for (int i = 0; i < x.length; i++) {
            assertThat(x[i]).isBetween(chart.getStyler().getXAxisMin(), chart.getStyler().getXAxisMax());
            if (i > 0) {
                assertThat(x[i]).isGreaterThan(x[i - 1]);
            }
        }
    }
}
