package dev.kextharness.cli.soak;

import dev.kextharness.kernel.soak.JetsamKill;
import dev.kextharness.kernel.soak.SoakResult;
import dev.kextharness.kernel.soak.SoakSamples;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The soak's chart: the zone map's size and the largest zones over simulated time, the jetsam
 * limit and the capacity as horizontal lines, and each jetsam kill as a marker on the map's line
 * with a vertical line under it. Drawn with XChart, headless; PNG by XChart itself, SVG through
 * its VectorGraphics2D encoder.
 */
final class SoakChart {
    /** Zones drawn besides the map: the largest ones. */
    private static final int ZONES_DRAWN = 5;
    private static final double GIB = 1L << 30;
    private static final Color[] ZONE_COLORS = {new Color(31, 119, 180), new Color(148, 103, 189),
            new Color(44, 160, 44), new Color(140, 86, 75), new Color(23, 190, 207)};

    private SoakChart() {
    }

    static XYChart build(SoakResult result, String kextName, String macName) {
        SoakSamples samples = result.samples();
        long[] uptime = samples.uptimeNanos();
        double span = uptime.length == 0 ? 0 : uptime[uptime.length - 1];
        boolean days = span > 2 * 86_400e9;
        double unit = days ? 86_400e9 : 3_600e9;
        boolean gib = result.zoneMapCapacity() >= (2L << 30);
        double scale = gib ? GIB : 1 << 20;

        XYChart chart = new XYChartBuilder().width(1200).height(700)
                .title("Zone map exhaustion: " + kextName + " on a " + macName + " Mac")
                .xAxisTitle("simulated uptime (" + (days ? "days" : "hours") + ")")
                .yAxisTitle(gib ? "GiB" : "MiB").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setMarkerSize(8);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(result.zoneMapCapacity() / scale * 1.05);
        chart.getStyler().setAntiAlias(true);

        double[] x = new double[uptime.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = uptime[i] / unit;
        }
        XYSeries map = chart.addSeries("zone map size", x, scaled(samples.zoneMapSize(), scale));
        map.setMarker(SeriesMarkers.NONE);
        map.setLineColor(Color.BLACK);
        map.setLineStyle(new BasicStroke(2.5f));
        List<String> zones = largestZones(samples);
        for (int i = 0; i < zones.size(); i++) {
            XYSeries series = chart.addSeries(zones.get(i), x, scaled(samples.zoneSize(zones.get(i)), scale));
            series.setMarker(SeriesMarkers.NONE);
            series.setLineColor(ZONE_COLORS[i % ZONE_COLORS.length]);
        }

        double first = x.length == 0 ? 0 : x[0];
        double last = x.length == 0 ? 0 : x[x.length - 1];
        level(chart, "capacity", first, last, result.zoneMapCapacity() / scale, Color.GRAY);
        level(chart, "jetsam limit (" + Math.round(100.0 * result.jetsamLimitBytes() / result.zoneMapCapacity()) + "%)",
                first, last, result.jetsamLimitBytes() / scale, Color.ORANGE);
        chart.getStyler().setAnnotationLineColor(new Color(200, 0, 0, 90));
        chart.getStyler().setAnnotationLineStroke(new BasicStroke(1f));

        if (!result.kills().isEmpty()) {
            double[] kx = new double[result.kills().size()];
            double[] ky = new double[kx.length];
            long[] mapSize = samples.zoneMapSize();
            for (int i = 0; i < kx.length; i++) {
                JetsamKill kill = result.kills().get(i);
                kx[i] = kill.uptimeNanos() / unit;
                ky[i] = mapSize[nearest(uptime, kill.uptimeNanos())] / scale;
                chart.addAnnotation(new AnnotationLine(kx[i], true, false));
            }
            XYSeries kills = chart.addSeries("jetsam kill (" + kx.length + ")", kx, ky);
            kills.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            kills.setMarker(SeriesMarkers.DIAMOND);
            kills.setMarkerColor(Color.RED);
        }
        return chart;
    }

    /** A horizontal line across the run, as a series of its own so that the legend names it. */
    private static void level(XYChart chart, String name, double from, double to, double y, Color color) {
        XYSeries series = chart.addSeries(name, new double[]{from, to}, new double[]{y, y});
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(color);
        series.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
    }

    /** Writes {@code <base>.png} and/or {@code <base>.svg}; returns the files written. */
    static List<Path> write(XYChart chart, Path base, boolean png, boolean svg) throws IOException {
        List<Path> written = new ArrayList<>();
        if (png) {
            Path file = Path.of(base + ".png");
            BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
            written.add(file);
        }
        if (svg) {
            Path file = Path.of(base + ".svg");
            VectorGraphicsEncoder.saveVectorGraphic(chart, file.toString(), VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
            written.add(file);
        }
        return written;
    }

    private static List<String> largestZones(SoakSamples samples) {
        return samples.zoneNames().stream()
                .filter(z -> max(samples.zoneSize(z)) > 0)
                .sorted(Comparator.comparingLong((String z) -> max(samples.zoneSize(z))).reversed())
                .limit(ZONES_DRAWN).toList();
    }

    private static long max(long[] values) {
        long max = 0;
        for (long v : values) {
            max = Math.max(max, v);
        }
        return max;
    }

    private static double[] scaled(long[] values, double scale) {
        double[] out = new double[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = values[i] / scale;
        }
        return out;
    }

    /** The last sample at or before {@code t} (the first if none). */
    private static int nearest(long[] uptime, long t) {
        int best = 0;
        for (int i = 0; i < uptime.length && uptime[i] <= t; i++) {
            best = i;
        }
        return best;
    }
}
