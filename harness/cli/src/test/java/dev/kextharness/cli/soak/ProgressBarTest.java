package dev.kextharness.cli.soak;

import dev.kextharness.kernel.soak.TimelineLine;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProgressBarTest {

    @Test
    void drawsOnOneLineAndClearsItselfBeforeEachLogLine() {
        StringWriter err = new StringWriter();
        List<String> printed = new ArrayList<>();
        long[] now = {0};
        ProgressBar bar = new ProgressBar(new PrintWriter(err), line -> printed.add(line.message()), () -> now[0]);

        bar.progress(0.5, 86_400_000_000_000L + 3_723_000_000_000L, 6L << 30);
        assertThat(err.toString()).isEqualTo("\r[###############...............]  50.0%  zone map 6.0 GiB  uptime 1d 01:02:03");

        String drawn = err.toString();
        bar.line(new TimelineLine(0, "kernel", "zone_map_exhaustion: ..."));
        assertThat(err.toString()).isEqualTo(drawn + "\r" + " ".repeat(drawn.length() - 1) + "\r");
        assertThat(printed).containsExactly("zone_map_exhaustion: ...");

        // Within a tenth of a second nothing is redrawn, except the last report.
        int length = err.toString().length();
        now[0] += 99_000_000L;
        bar.progress(0.6, 0, 1L << 20);
        assertThat(err.toString()).hasSize(length);
        now[0] += 2_000_000L;
        bar.progress(0.7, 0, 1L << 20);
        assertThat(err.toString()).endsWith("\r[#####################.........]  70.0%  zone map 1.0 MiB  uptime 0d 00:00:00");
        bar.progress(1.0, 0, 512L << 20);
        String last = "[##############################] 100.0%  zone map 512.0 MiB  uptime 0d 00:00:00";
        assertThat(err.toString()).endsWith("\r" + last);
        bar.clear();
        bar.clear();
        assertThat(err.toString()).endsWith("\r" + last + "\r" + " ".repeat(last.length()) + "\r");
    }
}
