package dev.kextharness.cli.soak;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.cli.ByteSize;
import dev.kextharness.cli.ExitCodes;
import dev.kextharness.cli.Json;
import dev.kextharness.cli.KernelOptions;
import dev.kextharness.cli.KextResolver;
import dev.kextharness.cli.KextTarget;
import dev.kextharness.cli.Terminal;
import dev.kextharness.kernel.kext.KextLoadException;
import dev.kextharness.kernel.soak.JetsamKill;
import dev.kextharness.kernel.soak.Relaunch;
import dev.kextharness.kernel.soak.Soak;
import dev.kextharness.kernel.soak.SoakConfig;
import dev.kextharness.kernel.soak.SoakListener;
import dev.kextharness.kernel.soak.SoakResult;
import dev.kextharness.kernel.soak.TimelineLine;
import dev.kextharness.kernel.soak.Until;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kpi.Kext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code soak [<kext>]}: the source article's zone-map exhaustion, replayed at true scale. A kext
 * that leaks on every request (the slowleak sample by default) is driven on the simulated clock of
 * a Mac with the given RAM until the zone map runs out; the command prints the kernel log as it
 * comes, writes it, the panic log and a chart, and exits with the panic status.
 */
@Command(name = "soak", mixinStandardHelpOptions = true,
        description = {
                "Drive a kext that leaks on every request (default: the slowleak sample, 48 bytes of kalloc.48 per "
                        + "request) on the simulated clock of a Mac with the given RAM, next to the ordinary zone use "
                        + "of a running Mac, until the zone map runs out: the zone_map_exhaustion warnings at the "
                        + "jetsam limit, memorystatus killing processes, and zalloc's panic, as on macOS 10.15.6.",
                "Prints the log as it comes; writes it, the panic log and a chart of the zones over time to --out."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
                "0:the soak stopped at --until, or the kext stopped holding more memory",
                "1:internal error of the harness",
                "2:usage error (unknown kext or option, bad number, --out not writable, too little Java heap)",
                "4:the simulated kernel panicked (the zone map ran out)",
                "5:the kext failed to load, or its request method threw"})
public final class SoakCommand implements Callable<Integer> {
    private static final DateTimeFormatter PANIC_FILE = DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss");

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "<kext>", defaultValue = "slowleak",
            description = "A sample name or a kext class name (with --classpath) whose service interface declares "
                    + "handle(int requests) (default: ${DEFAULT-VALUE}).")
    private String kext;

    @Option(names = {"--classpath", "--cp"}, paramLabel = "<dir|jar>",
            description = "Where the kext class named by <kext> is compiled to.")
    private Path classpath;

    @Mixin
    private KernelOptions kernelOptions;

    @Option(names = "--rate", paramLabel = "<requests/s>", defaultValue = "110",
            description = "Requests per simulated second (default: ${DEFAULT-VALUE}, the source article's leak: "
                    + "136 million kalloc.48 elements after 14.3 days of uptime).")
    private double rate;

    @Option(names = "--zone", paramLabel = "<kalloc.N>",
            description = "The kalloc zone the kext's records go to: its size is passed to the kext's start routine "
                    + "(default: the kext's own, kalloc.48 for slowleak).")
    private String zone;

    @Option(names = "--until", paramLabel = "panic|<n>|<fraction>", defaultValue = "panic",
            description = "When to stop: at the panic (default), after <n> allocations by the kext (1000000, 5M), or "
                    + "once the zone map holds a fraction of its capacity (0.9, 90%%).")
    private String until;

    @Option(names = "--out", paramLabel = "<dir>", defaultValue = "soak-out",
            description = "Where to write soak.log, the panic log and the chart (default: ${DEFAULT-VALUE}).")
    private Path out;

    @Option(names = "--chart", paramLabel = "png|svg|both|none", defaultValue = "both",
            description = "The chart's formats (default: ${DEFAULT-VALUE}).")
    private String chart;

    @Option(names = "--max-points", paramLabel = "<n>", defaultValue = "2000",
            description = "Points per series the chart keeps at most, evenly spread (default: ${DEFAULT-VALUE}).")
    private int maxPoints;

    @Option(names = "--no-background", negatable = false,
            description = "Leave out the ordinary zone use of a running Mac: only the kext grows the zone map.")
    private boolean noBackground;

    @Option(names = "--json", description = "Print only the summary, as JSON (result, counts, kills, panic string, "
            + "files written), instead of the log and the text summary; the log is still written to --out.")
    private boolean json;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Show a progress bar on standard error when it is a terminal (default); --no-progress "
                    + "never shows it.")
    private boolean progress;

    @Override
    public Integer call() throws IOException {
        KextTarget target = new KextResolver(spec.commandLine()).resolve(kext, false, classpath, null);
        if (target.kext() == null) {
            throw usage("soak needs a kext class (a sample, or a class name with --classpath), not a jar");
        }
        SoakConfig config = config();
        checkHeap(config, Runtime.getRuntime().maxMemory());
        boolean png = chart.equals("png") || chart.equals("both");
        boolean svg = chart.equals("svg") || chart.equals("both");
        createOutputDirectory();

        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        if (!json) {
            stdout.printf(Locale.ROOT, "soak: %s (%s) on a %s Mac, zone map %s, jetsam limit %d%%, %s requests/s, until %s%n",
                target.name(), target.kext().getName(), ByteSize.format(config.kernel().physicalMemory()),
                gib(config.kernel().zoneMapSize() > 0 ? config.kernel().zoneMapSize()
                        : Zalloc.zoneMapCapacityFor(config.kernel().physicalMemory())),
                    config.kernel().jetsamLimitPercent(), number(config.rate()), config.until());
            stdout.flush();
        }

        List<TimelineLine> printed = new ArrayList<>();
        java.util.function.Consumer<TimelineLine> print = line -> {
            printed.add(line);
            if (!json) {
                stdout.println(line.render());
                stdout.flush();
            }
        };
        ProgressBar bar = progress && Terminal.isTerminal(System.console()) && !"dumb".equals(System.getenv("TERM"))
                ? new ProgressBar(stderr, print) : null;
        SoakListener listener = bar != null ? bar : new SoakListener() {
            @Override
            public void line(TimelineLine line) {
                print.accept(line);
            }
        };

        SoakResult result;
        Class<? extends Kext> kextClass = target.kext();
        try {
            result = Soak.run(config, kextClass, listener);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        } catch (KextLoadException e) {
            if (json) {
                ObjectNode failed = Json.object();
                failed.put("kext", target.name());
                failed.put("result", "load-failed");
                failed.put("message", "the kext did not load: " + firstLine(e.getMessage()));
                failed.put("exitCode", ExitCodes.LOAD_FAILED);
                stdout.println(Json.write(failed));
                stdout.flush();
            } else {
                stdout.println("soak: the kext did not load: " + firstLine(e.getMessage()));
            }
            return ExitCodes.LOAD_FAILED;
        } finally {
            if (bar != null) {
                bar.clear();
            }
        }

        List<Path> written = new ArrayList<>();
        Path log = out.resolve("soak.log");
        Files.write(log, printed.stream().map(TimelineLine::render).toList(), StandardCharsets.UTF_8);
        written.add(log);
        if (result.panic() != null) {
            Path panic = out.resolve("Kernel-" + PANIC_FILE.format(TimelineLine.wallClock(result.uptimeNanos())) + ".panic");
            Files.writeString(panic, result.panic().panicLog(), StandardCharsets.UTF_8);
            written.add(panic);
        }
        if (png || svg) {
            System.setProperty("java.awt.headless", "true");
            written.addAll(SoakChart.write(SoakChart.build(result, target.name(),
                    ByteSize.format(config.kernel().physicalMemory())), out.resolve("soak"), png, svg));
        }
        int status = switch (result.reason()) {
            case PANIC -> ExitCodes.PANIC;
            case KEXT_FAILED -> ExitCodes.LOAD_FAILED;
            case UNTIL, STALLED -> ExitCodes.CLEAN;
        };
        if (json) {
            stdout.println(Json.write(json(target, config, result, written, status)));
            stdout.flush();
        } else {
            summary(stdout, result, written);
        }
        return status;
    }

    /** The summary as JSON: what ran, how it ended, the counts, the kills, the panic and the files written. */
    private static ObjectNode json(KextTarget target, SoakConfig config, SoakResult r, List<Path> written, int status) {
        ObjectNode root = Json.object();
        root.put("kext", target.name());
        root.put("class", target.kext().getName());
        root.put("ramBytes", config.kernel().physicalMemory());
        root.put("rate", config.rate());
        root.put("until", String.valueOf(config.until()));
        root.put("result", r.reason().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        root.put("message", r.message());
        root.put("exitCode", status);
        root.put("uptimeNanos", r.uptimeNanos());
        root.put("uptime", uptime(r.uptimeNanos()));
        root.put("requests", r.requests());
        root.put("kextAllocations", r.kextAllocations());
        root.put("kextLive", r.kextLive());
        root.put("leakZone", r.leakZone());
        var zalloc = r.kernel().zalloc();
        ObjectNode zoneMap = root.putObject("zoneMap");
        zoneMap.put("sizeBytes", zalloc.zoneMapSize());
        zoneMap.put("capacityBytes", r.zoneMapCapacity());
        zoneMap.put("jetsamLimitBytes", r.jetsamLimitBytes());
        var largest = zalloc.largestZone();
        zoneMap.putObject("largestZone").put("name", largest.name()).put("curSizeBytes", largest.curSize())
                .put("count", largest.count());
        ArrayNode kills = root.putArray("kills");
        for (JetsamKill k : r.kills()) {
            kills.addObject().put("uptimeNanos", k.uptimeNanos()).put("pid", k.pid()).put("name", k.name())
                    .put("priority", k.priority()).put("footprintBytes", k.footprintBytes())
                    .put("kernelBytes", k.kernelBytes());
        }
        ArrayNode relaunches = root.putArray("relaunches");
        for (Relaunch l : r.relaunches()) {
            relaunches.addObject().put("uptimeNanos", l.uptimeNanos()).put("killedPid", l.killedPid())
                    .put("pid", l.pid()).put("name", l.name()).put("refillBytes", l.refillBytes());
        }
        root.put("relaunchCacheBytes", r.relaunchCacheBytes());
        if (r.panic() != null) {
            root.putObject("panic").put("panicString", r.panic().panicString())
                    .put("harnessNote", r.panic().harnessNote());
        } else {
            root.putNull("panic");
        }
        ArrayNode files = root.putArray("files");
        written.forEach(path -> files.add(path.toString()));
        return root;
    }

    private SoakConfig config() {
        if (!List.of("png", "svg", "both", "none").contains(chart)) {
            throw usage("--chart takes png, svg, both or none, not '" + chart + "'");
        }
        try {
            SoakConfig config = SoakConfig.defaults().withKernel(kernelOptions.config()).withRate(rate)
                    .withUntil(Until.parse(until)).withMaxSamples(maxPoints).withBackground(!noBackground);
            return zone == null ? config : config.withLeakZone(zone);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** A soak whose ledger would not fit the JVM's heap is refused before it starts, with the remedy. */
    void checkHeap(SoakConfig config, long maxHeap) {
        if (config.until() instanceof Until.Allocations) {
            return;
        }
        long needed = Soak.estimatedHeapBytes(config);
        if (needed > maxHeap) {
            throw usage(String.format(Locale.ROOT, "a soak of a %s Mac to the %s needs about %d MiB of Java heap and "
                            + "this JVM has %d MiB: run with KEXT_HARNESS_JAVA_OPTS=-Xmx%dm, or give a smaller --ram or --until",
                    ByteSize.format(config.kernel().physicalMemory()),
                    config.until() instanceof Until.Panic ? "panic" : "zone map fraction asked", needed >> 20,
                    maxHeap >> 20, (needed >> 20) + 256));
        }
    }

    private void createOutputDirectory() {
        try {
            Files.createDirectories(out);
        } catch (IOException | RuntimeException e) {
            throw usage("--out " + out + ": cannot create the directory (" + e.getMessage() + ")");
        }
        if (!Files.isWritable(out)) {
            throw usage("--out " + out + ": the directory is not writable");
        }
    }

    private static void summary(PrintWriter out, SoakResult r, List<Path> written) {
        out.println();
        out.println("ended: " + r.message());
        out.printf(Locale.ROOT, "uptime: %s (%s)%n", uptime(r.uptimeNanos()),
                TimelineLine.wallClock(r.uptimeNanos()).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ssxx")));
        out.printf(Locale.ROOT, "kext: %,d requests, %,d allocations, %,d live%s%n", r.requests(), r.kextAllocations(),
                r.kextLive(), r.leakZone() == null ? "" : " in " + r.leakZone());
        var zalloc = r.kernel().zalloc();
        var largest = zalloc.largestZone();
        out.printf(Locale.ROOT, "zone map: %,d of %,d bytes (%.2f%%); largest zone %s: %,d bytes, %,d elements%n",
                zalloc.zoneMapSize(), r.zoneMapCapacity(), 100.0 * zalloc.zoneMapSize() / r.zoneMapCapacity(),
                largest.name(), largest.curSize(), largest.count());
        long freed = r.kills().stream().mapToLong(JetsamKill::kernelBytes).sum();
        out.printf(Locale.ROOT, "jetsam: %d processes killed%s, %,d bytes of zone memory freed%n", r.kills().size(),
                r.kills().isEmpty() ? "" : " (" + timesEach(r.kills().stream().map(JetsamKill::name).toList()) + ")",
                freed);
        if (!r.relaunches().isEmpty()) {
            out.printf(Locale.ROOT, "launchd: %d daemons relaunched (%s), their caches took %,d bytes of zone memory%n",
                    r.relaunches().size(), timesEach(r.relaunches().stream().map(Relaunch::name).toList()),
                    r.relaunchCacheBytes());
        }
        out.println("wrote: " + written.stream().map(Path::toString).collect(Collectors.joining(", ")));
        out.flush();
    }

    /** Names in order of first appearance, a repeated one once with its count: {@code photoanalysisd x12, lsd}. */
    static String timesEach(List<String> names) {
        Map<String, Long> counts = names.stream()
                .collect(Collectors.groupingBy(n -> n, LinkedHashMap::new, Collectors.counting()));
        return counts.entrySet().stream().map(e -> e.getValue() == 1 ? e.getKey() : e.getKey() + " x" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /** {@code 11.4 GiB}, {@code 512.0 MiB}. */
    static String gib(long bytes) {
        return bytes >= (1L << 30) ? String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }

    /** {@code 14d 07:57:13}. */
    static String uptime(long nanos) {
        long s = nanos / 1_000_000_000L;
        return String.format(Locale.ROOT, "%dd %02d:%02d:%02d", s / 86_400, s / 3_600 % 24, s / 60 % 60, s % 60);
    }

    private static String number(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value);
    }

    private static String firstLine(String message) {
        int newline = message == null ? -1 : message.indexOf('\n');
        return newline < 0 ? String.valueOf(message) : message.substring(0, newline);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
