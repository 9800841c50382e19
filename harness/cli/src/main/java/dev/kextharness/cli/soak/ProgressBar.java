package dev.kextharness.cli.soak;

import dev.kextharness.kernel.soak.SoakListener;
import dev.kextharness.kernel.soak.TimelineLine;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The soak's progress on one line of standard error, redrawn at most ten times a second: how full
 * the zone map is (or how far to the {@code --until} goal) and the simulated uptime. Log lines are
 * printed above it, so the bar is cleared before each one and redrawn after.
 */
final class ProgressBar implements SoakListener {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter err;
    private final Consumer<TimelineLine> lines;
    private final LongSupplier clock;
    private long lastDraw;
    private String shown = "";

    ProgressBar(PrintWriter err, Consumer<TimelineLine> lines) {
        this(err, lines, System::nanoTime);
    }

    /** With the wall clock that paces redrawing given, for tests. */
    ProgressBar(PrintWriter err, Consumer<TimelineLine> lines, LongSupplier clock) {
        this.err = err;
        this.lines = lines;
        this.clock = clock;
        this.lastDraw = clock.getAsLong() - REDRAW_NANOS;
    }

    @Override
    public void line(TimelineLine line) {
        clear();
        lines.accept(line);
    }

    @Override
    public void progress(double fraction, long uptimeNanos, long zoneMapSize) {
        long now = clock.getAsLong();
        if (now - lastDraw < REDRAW_NANOS && fraction < 1) {
            return;
        }
        lastDraw = now;
        int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * WIDTH);
        shown = String.format(Locale.ROOT, "[%s%s] %5.1f%%  zone map %s  uptime %s", "#".repeat(filled),
                ".".repeat(WIDTH - filled), fraction * 100, SoakCommand.gib(zoneMapSize), SoakCommand.uptime(uptimeNanos));
        err.print("\r" + shown);
        err.flush();
    }

    /** Removes the bar, before a log line or at the end. */
    void clear() {
        if (!shown.isEmpty()) {
            err.print("\r" + " ".repeat(shown.length()) + "\r");
            err.flush();
            shown = "";
        }
    }
}
