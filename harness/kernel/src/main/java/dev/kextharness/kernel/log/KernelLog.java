package dev.kextharness.kernel.log;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The kernel's message buffer (msgbuf): what {@code printf} and {@code IOLog} write, and the
 * kernel's own messages. Text is kept as written; complete lines are also kept with the simulated
 * time they were finished at, and passed to listeners (the command line streams them). Many
 * threads may write at once: each call's text stays together, as one {@code printf} of XNU's does.
 */
public final class KernelLog {

    /** A finished line and the simulated uptime (nanoseconds) at which it was written. */
    public record Line(long uptimeNanos, String text) {
    }

    private final StringBuilder pending = new StringBuilder();
    private final List<Line> lines = new ArrayList<>();
    private final List<Consumer<Line>> listeners = new ArrayList<>();
    private final java.util.function.LongSupplier clock;

    public KernelLog(java.util.function.LongSupplier clock) {
        this.clock = clock;
    }

    /** Appends raw text, as kernel printf does; each newline finishes a line. */
    public synchronized void append(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                finishLine();
            } else {
                pending.append(c);
            }
        }
    }

    /** Appends one complete line (a kernel message such as OSKext's). */
    public synchronized void printf(String line) {
        append(line);
        append("\n");
    }

    private void finishLine() {
        Line line = new Line(clock.getAsLong(), pending.toString());
        pending.setLength(0);
        lines.add(line);
        for (Consumer<Line> listener : listeners) {
            listener.accept(line);
        }
    }

    /** Finished lines, oldest first. */
    public synchronized List<Line> lines() {
        return List.copyOf(lines);
    }

    /** The text of finished lines from index {@code from} on. */
    public synchronized List<String> textSince(int from) {
        List<String> out = new ArrayList<>();
        for (int i = from; i < lines.size(); i++) {
            out.add(lines.get(i).text());
        }
        return out;
    }

    public synchronized int size() {
        return lines.size();
    }

    /** Everything written, as text (an unfinished last line included). */
    public synchronized String text() {
        StringBuilder sb = new StringBuilder();
        for (Line line : lines) {
            sb.append(line.text()).append('\n');
        }
        return sb.append(pending).toString();
    }

    public synchronized void addListener(Consumer<Line> listener) {
        listeners.add(listener);
    }
}
