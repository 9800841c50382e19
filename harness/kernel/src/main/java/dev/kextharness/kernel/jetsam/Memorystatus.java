package dev.kextharness.kernel.jetsam;

import dev.kextharness.kernel.log.KernelLog;
import dev.kextharness.kernel.printf.CFormat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * memorystatus (jetsam): the simulated process table and the killer the zone-map exhaustion path
 * wakes. It kills the process in the lowest priority band first, the largest of that band, and
 * logs it the way Catalina's memorystatus does.
 */
public final class Memorystatus {

    /**
     * A simulated process.
     *
     * @param pid            process id
     * @param name           {@code p_comm}
     * @param priority       jetsam priority band (lower dies first)
     * @param footprintBytes physical footprint, as printed in the kill line
     */
    public record Proc(int pid, String name, int priority, long footprintBytes) {
    }

    private final List<Proc> procs = new ArrayList<>();
    private final List<Proc> killed = new ArrayList<>();
    private final KernelLog log;
    private final LongSupplier uptimeNanos;
    private final LongSupplier availablePages;
    private Consumer<Proc> onKill = p -> { };

    public Memorystatus(KernelLog log, LongSupplier uptimeNanos, LongSupplier availablePages) {
        this.log = log;
        this.uptimeNanos = uptimeNanos;
        this.availablePages = availablePages;
    }

    /** The processes a Catalina Mac has soon after boot, with plausible footprints and bands. */
    public static List<Proc> catalinaBootProcesses() {
        return List.of(
                new Proc(1, "launchd", 1000, 24L << 20),
                new Proc(96, "WindowServer", 160, 310L << 20),
                new Proc(112, "loginwindow", 100, 52L << 20),
                new Proc(152, "Finder", 40, 120L << 20),
                new Proc(155, "Dock", 40, 64L << 20),
                new Proc(328, "mds_stores", 10, 88L << 20),
                new Proc(415, "lsd", 3, 107552L << 10),
                new Proc(433, "cloudd", 3, 46L << 20),
                new Proc(470, "photoanalysisd", 0, 71L << 20),
                new Proc(512, "Safari", 40, 405L << 20));
    }

    public void spawn(Proc proc) {
        procs.add(proc);
    }

    /** Called with each killed process, so the kernel can free what it held. */
    public void setOnKill(Consumer<Proc> onKill) {
        this.onKill = onKill;
    }

    /**
     * Kills one process for {@code cause} (XNU's {@code memorystatus_kill_cause_name}, e.g.
     * {@code highwater}); returns it, or null when nothing is left to kill.
     */
    public Proc killOne(String cause) {
        Proc victim = procs.stream()
                .min(Comparator.comparingInt(Proc::priority).thenComparing(Comparator.comparingLong(Proc::footprintBytes).reversed()))
                .orElse(null);
        if (victim == null) {
            return null;
        }
        procs.remove(victim);
        killed.add(victim);
        long now = uptimeNanos.getAsLong();
        log.printf(CFormat.format("%lu.%03d memorystatus: killing_%s_process pid %d [%s] (%s %d) %lluKB - memorystatus_available_pages: %llu",
                now / 1_000_000_000L, (int) (now / 1_000_000L % 1000), cause.equals("highwater") ? "highwater" : "top",
                victim.pid(), victim.name(), cause, victim.priority(), victim.footprintBytes() >> 10,
                availablePages.getAsLong()));
        onKill.accept(victim);
        return victim;
    }

    public List<Proc> processes() {
        return List.copyOf(procs);
    }

    public List<Proc> killed() {
        return List.copyOf(killed);
    }
}
