package dev.kextharness.cli.soak;

import de.erichseifert.vectorgraphics2d.VectorGraphics2D;
import de.erichseifert.vectorgraphics2d.svg.SVGProcessor;
import de.erichseifert.vectorgraphics2d.util.PageSize;
import dev.kextharness.kernel.soak.JetsamKill;
import dev.kextharness.kernel.soak.SoakResult;
import dev.kextharness.kernel.soak.SoakSamples;
import dev.kextharness.kernel.soak.TimelineLine;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;

/**
 * The soak's chart, two panels one above the other. The whole run: the zone map's size and the
 * largest zones over simulated time, the jetsam limit and the capacity as horizontal lines, and
 * each jetsam kill as a marker on the map's line with a vertical line under it. At true scale the
 * kills fall in the last half hour of two weeks and merge into one mark, so the close-up below
 * spans the first {@code zone_map_exhaustion} warning to the end, from the soak's finer close-up
 * samples, with each kill a marker labelled with its process. A run that never warned has only
 * the first panel. Drawn with XChart, headless; PNG by XChart itself, SVG through VectorGraphics2D.
 */
final class SoakChart {
    /** Zones drawn besides the map: the largest ones. */
    private static final int ZONES_DRAWN = 5;
    private static final double GIB = 1L << 30;
    private static final int WIDTH = 1200;
    private static final int HEIGHT = 700;
    /** Space each side of the close-up's window, as a share of the window. */
    private static final double CLOSE_UP_MARGIN = 0.06;
    private static final String WARNING = "zone_map_exhaustion:";
    private static final double MINUTE = 60e9;
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final Color[] ZONE_COLORS = {new Color(31, 119, 180), new Color(148, 103, 189),
            new Color(44, 160, 44), new Color(140, 86, 75), new Color(23, 190, 207)};

    private SoakChart() {
    }

    /** The chart's panels: the whole run, then the close-up of the jetsam storm if there was one. */
    static List<XYChart> build(SoakResult result, String kextName, String macName) {
        List<XYChart> panels = new ArrayList<>();
        panels.add(wholeRun(result, kextName, macName));
        firstWarning(result).ifPresent(warning -> panels.add(closeUp(result, warning)));
        return panels;
    }

    private static XYChart wholeRun(SoakResult result, String kextName, String macName) {
        SoakSamples samples = result.samples();
        long[] uptime = samples.uptimeNanos();
        double span = uptime.length == 0 ? 0 : uptime[uptime.length - 1];
        boolean days = span > 2 * 86_400e9;
        double unit = days ? 86_400e9 : 3_600e9;
        boolean gib = result.zoneMapCapacity() >= (2L << 30);
        double scale = gib ? GIB : 1 << 20;

        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
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

    /** Uptime of the first {@code zone_map_exhaustion} warning, if the run logged one. */
    static OptionalLong firstWarning(SoakResult result) {
        return result.timeline().stream().filter(line -> line.message().startsWith(WARNING))
                .mapToLong(TimelineLine::uptimeNanos).findFirst();
    }

    /**
     * The close-up: from a little before the first warning to a little after the end, in minutes
     * from the warning. The map's size, the jetsam limit, the capacity, and each kill labelled
     * with its process as the jetsam report names it.
     */
    private static XYChart closeUp(SoakResult result, long warningNanos) {
        long end = result.uptimeNanos();
        double margin = CLOSE_UP_MARGIN * Math.max(end - warningNanos, MINUTE);
        double from = -margin / MINUTE;
        double to = (end - warningNanos + margin) / MINUTE;
        boolean gib = result.zoneMapCapacity() >= (2L << 30);
        double scale = gib ? GIB : 1 << 20;

        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
                .title("Close-up: the jetsam kills, from the first zone_map_exhaustion warning ("
                        + TimelineLine.wallClock(warningNanos).format(CLOCK) + ") to the "
                        + (result.panic() != null ? "panic" : "end"))
                .xAxisTitle("simulated minutes from the first zone_map_exhaustion warning")
                .yAxisTitle(gib ? "GiB" : "MiB").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setMarkerSize(9);
        chart.getStyler().setAntiAlias(true);
        chart.getStyler().setXAxisMin(from);
        chart.getStyler().setXAxisMax(to);
        chart.getStyler().setAnnotationLineColor(new Color(200, 0, 0, 90));
        chart.getStyler().setAnnotationLineStroke(new BasicStroke(1f));
        chart.getStyler().setAnnotationTextFontColor(new Color(160, 0, 0));
        chart.getStyler().setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));

        MapLine line = closeUpMapLine(result, warningNanos - (long) margin);
        double[] x = new double[line.uptime.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (line.uptime[i] - warningNanos) / MINUTE;
        }
        XYSeries map = chart.addSeries("zone map size", x, scaled(line.size, scale));
        map.setMarker(SeriesMarkers.NONE);
        map.setLineColor(Color.BLACK);
        map.setLineStyle(new BasicStroke(2f));
        level(chart, "capacity", from, to, result.zoneMapCapacity() / scale, Color.GRAY);
        level(chart, "jetsam limit (" + Math.round(100.0 * result.jetsamLimitBytes() / result.zoneMapCapacity()) + "%)",
                from, to, result.jetsamLimitBytes() / scale, Color.ORANGE);

        double low = Math.min(result.jetsamLimitBytes(), min(line.size)) / scale;
        double high = result.zoneMapCapacity() / scale;
        double pad = (high - low) * 0.08;
        // Labels sit above their markers on three staggered rows, so neighbours do not overlap.
        chart.getStyler().setYAxisMin(low - pad);
        chart.getStyler().setYAxisMax(high + 5 * pad);
        List<JetsamKill> kills = result.kills();
        if (!kills.isEmpty()) {
            double[] kx = new double[kills.size()];
            double[] ky = new double[kx.length];
            for (int i = 0; i < kx.length; i++) {
                JetsamKill kill = kills.get(i);
                kx[i] = (kill.uptimeNanos() - warningNanos) / MINUTE;
                ky[i] = line.size[nearest(line.uptime, kill.uptimeNanos())] / scale;
                chart.addAnnotation(new AnnotationLine(kx[i], true, false));
                chart.addAnnotation(new AnnotationText(kill.name() + " [" + kill.pid() + "]", kx[i],
                        ky[i] + pad * (1 + 1.2 * (i % 3)), false));
            }
            XYSeries series = chart.addSeries("jetsam kill (" + kx.length + ")", kx, ky);
            series.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            series.setMarker(SeriesMarkers.DIAMOND);
            series.setMarkerColor(Color.RED);
        }
        return chart;
    }

    /** The zone map's size over the close-up, oldest first, in nanoseconds of uptime and bytes. */
    private record MapLine(long[] uptime, long[] size) {
    }

    /**
     * The close-up samples, led by the last run-long sample before the window, held at the window's
     * left edge: the close-up samples start only at the jetsam limit, and the map hardly moves
     * before it.
     */
    private static MapLine closeUpMapLine(SoakResult result, long fromNanos) {
        long[] runUptime = result.samples().uptimeNanos();
        long[] runSize = result.samples().zoneMapSize();
        long[] uptime = result.closeUpSamples().uptimeNanos();
        long[] size = result.closeUpSamples().zoneMapSize();
        long firstCloseUp = uptime.length == 0 ? Long.MAX_VALUE : uptime[0];
        List<long[]> points = new ArrayList<>();
        if (runUptime.length > 0 && runUptime[0] < fromNanos && fromNanos < firstCloseUp) {
            points.add(new long[]{fromNanos, runSize[nearest(runUptime, fromNanos)]});
        }
        for (int i = 0; i < runUptime.length; i++) {
            if (runUptime[i] >= fromNanos && runUptime[i] < firstCloseUp) {
                points.add(new long[]{runUptime[i], runSize[i]});
            }
        }
        for (int i = 0; i < uptime.length; i++) {
            points.add(new long[]{uptime[i], size[i]});
        }
        return new MapLine(points.stream().mapToLong(p -> p[0]).toArray(), points.stream().mapToLong(p -> p[1]).toArray());
    }

    /** A horizontal line across the run, as a series of its own so that the legend names it. */
    private static void level(XYChart chart, String name, double from, double to, double y, Color color) {
        XYSeries series = chart.addSeries(name, new double[]{from, to}, new double[]{y, y});
        series.setMarker(SeriesMarkers.NONE);
        series.setLineColor(color);
        series.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{6f, 4f}, 0f));
    }

    /** Writes the panels one above the other to {@code <base>.png} and/or {@code <base>.svg}; returns the files written. */
    static List<Path> write(List<XYChart> panels, Path base, boolean png, boolean svg) throws IOException {
        List<Path> written = new ArrayList<>();
        if (png) {
            Path file = Path.of(base + ".png");
            BitmapEncoder.saveBitmap(panels, panels.size(), 1, file.toString(), BitmapEncoder.BitmapFormat.PNG);
            written.add(file);
        }
        if (svg) {
            Path file = Path.of(base + ".svg");
            VectorGraphics2D graphics = new VectorGraphics2D();
            int height = 0;
            for (XYChart panel : panels) {
                panel.paint(graphics, panel.getWidth(), panel.getHeight());
                graphics.translate(0, panel.getHeight());
                height += panel.getHeight();
            }
            try (OutputStream out = Files.newOutputStream(file)) {
                new SVGProcessor().getDocument(graphics.getCommands(), new PageSize(0, 0, WIDTH, height)).writeTo(out);
            }
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

    private static long min(long[] values) {
        long min = Long.MAX_VALUE;
        for (long v : values) {
            min = Math.min(min, v);
        }
        return min;
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
