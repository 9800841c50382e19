package dev.kextharness.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.samples.Sample;
import dev.kextharness.samples.SampleCatalog;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code demo}: the teaching tour. Each sample of the catalog, in order, in a freshly booted
 * kernel: its log lines, the zprint rows it changed, the verdict and the rule it broke; then its
 * balanced twin unloading clean; then a summary table. The output is the same on every run.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {
                "The teaching tour: load each sample kext into a freshly booted kernel, show its kernel log, the "
                        + "zprint rows it changed, the verdict (leak report or panic log) and the balance rule it "
                        + "broke; then its balanced twin unloading clean; then a summary table."},
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
                "0:every sample ended as its lesson says and every twin unloaded clean",
                "1:a sample or a twin did not (or the harness failed)",
                "2:usage error"})
final class DemoCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print the tour as JSON: every run of every sample, and the summary.")
    private boolean json;

    @Option(names = "--sample", paramLabel = "<name>",
            description = "Only these samples (repeatable); default: the whole catalog.")
    private List<String> only = new ArrayList<>();

    @Mixin
    private KernelOptions kernelOptions;

    @Mixin
    private RunOutputs outputs;

    /**
     * One sample's lesson: the rule-breaking kext's run and its twin's, and how the kext was
     * expected to end under the kernel options given.
     */
    record Lesson(Sample sample, KextRun kext, KextRun twin, Sample.Outcome expected) {
        boolean asExpected() {
            return kext.outcome() == expected && twin.verdict() == Verdict.CLEAN;
        }
    }

    @Override
    public Integer call() {
        List<Sample> samples = selected();
        outputs.suppressions(spec.commandLine());
        KernelConfig config = kernelOptions.config();
        List<Lesson> lessons = new ArrayList<>();
        for (Sample sample : samples) {
            // A fresh kernel for each run: a panic ends a kernel, as it ends a Mac's uptime.
            KextRun kext = KextRun.of(outputs.prepare(Kernel.boot(config), spec.commandLine()),
                    KextTarget.sample(sample, false), true);
            KextRun twin = KextRun.of(outputs.prepare(Kernel.boot(config), spec.commandLine()),
                    KextTarget.sample(sample, true), true);
            lessons.add(new Lesson(sample, kext, twin, expected(sample, kext)));
        }
        PrintWriter out = spec.commandLine().getOut();
        List<KextRun> runs = lessons.stream().flatMap(l -> java.util.stream.Stream.of(l.kext(), l.twin())).toList();
        if (json) {
            ObjectNode root = json(lessons);
            if (outputs.genSuppressions) {
                root.put("generatedSuppressions", RunOutputs.generated(runs));
            }
            out.println(Json.write(root));
        } else {
            Ansi ansi = spec.commandLine().getColorScheme().ansi();
            out.println(ansi.string("@|bold Kext Harness demo|@") + ": " + samples.size() + " sample kext"
                    + (samples.size() == 1 ? "" : "s") + ", each loaded into a freshly booted simulated kernel ("
                    + "xnu-6153.141.1, " + ByteSize.format(config.physicalMemory()) + " RAM, leak policy "
                    + config.leakPolicy().name().toLowerCase(Locale.ROOT) + ").");
            for (int i = 0; i < lessons.size(); i++) {
                printLesson(out, ansi, i + 1, lessons.size(), lessons.get(i));
            }
            printSummary(out, ansi, lessons);
            outputs.printGenerated(out, runs);
        }
        out.flush();
        outputs.write(spec.commandLine(), "kext-harness demo", reportCases(lessons));
        return lessons.stream().allMatch(Lesson::asExpected) ? ExitCodes.CLEAN : ExitCodes.SOFTWARE;
    }

    private List<Sample> selected() {
        if (only.isEmpty()) {
            return SampleCatalog.all();
        }
        List<Sample> samples = new ArrayList<>();
        for (String name : only) {
            samples.add(SampleCatalog.find(name).orElseThrow(() -> new ParameterException(
                    spec.commandLine(), "unknown sample '" + name + "': the samples are " + KextResolver.sampleNames())));
        }
        return samples;
    }

    /**
     * How the sample ends under these kernel options. The catalog says how it ends under the
     * defaults (leak policy panic, findings on). Under fail or xnu the harness's panic over
     * allocations outstanding at unload becomes a leak report (XNU's own panics stay panics); with
     * findings off, a sample whose only fault is a finding unloads clean, as in XNU, and so do the
     * samples whose panic is a check Catalina's per-CPU zone cache skips in their zone.
     */
    private Sample.Outcome expected(Sample sample, KextRun run) {
        Sample.Outcome catalog = sample.expected();
        if (catalog == Sample.Outcome.FINDING && !kernelOptions.findings()) {
            return Sample.Outcome.CLEAN;
        }
        if (SILENT_IN_ZCACHE.contains(sample.name()) && !kernelOptions.findings()) {
            return Sample.Outcome.CLEAN;
        }
        boolean leakAtUnload = run.report() != null && run.report().hasLeaks();
        if (catalog == Sample.Outcome.PANIC && leakAtUnload && kernelOptions.leakPolicy() != LeakPolicy.PANIC) {
            return Sample.Outcome.LEAK;
        }
        return catalog;
    }

    /**
     * Samples whose fault sits in a kalloc zone with a per-CPU cache on Catalina (kalloc.48): zcache
     * takes a double free silently and checks only an element's first and last word, so with
     * findings off their kext unloads clean, as it would on 10.15.
     */
    private static final java.util.Set<String> SILENT_IN_ZCACHE = java.util.Set.of("doublefree", "writeafterfree");

    private static String label(Sample.Outcome outcome) {
        return outcome.name().toLowerCase(Locale.ROOT);
    }

    private static void printLesson(PrintWriter out, Ansi ansi, int number, int count, Lesson lesson) {
        Sample sample = lesson.sample();
        KextRun kext = lesson.kext();
        out.println();
        out.println(ansi.string("@|bold == " + number + "/" + count + " " + sample.name() + ": " + sample.title() + "|@"));
        out.println("kextload " + kext.target().className() + ", exercise it, kextunload it. Kernel log:");
        RunReport.printLog(out, kext);
        out.println("zprint rows that changed (- at boot, + after the run):");
        RunReport.printZoneChanges(out, kext);
        out.println("verdict: " + RunReport.verdictWord(ansi, kext.verdict())
                + (kext.outcome() == lesson.expected() ? "" : " (the lesson expects " + label(lesson.expected()) + ")"));
        RunReport.printIndented(out, RunReport.verdictBody(kext));
        out.println();
        if (kext.brokeARule()) {
            out.println(ansi.string("@|bold rule:|@ ") + sample.rule());
            out.println();
        }
        KextRun twin = lesson.twin();
        out.println("The balanced twin, " + twin.target().className() + ", in a fresh kernel. Kernel log:");
        RunReport.printLog(out, twin);
        out.println("verdict: " + RunReport.verdictWord(ansi, twin.verdict()));
        RunReport.printIndented(out, RunReport.verdictBody(twin));
    }

    private static void printSummary(PrintWriter out, Ansi ansi, List<Lesson> lessons) {
        int nameWidth = Math.max("sample".length(), lessons.stream().mapToInt(l -> l.sample().name().length()).max().orElse(0));
        int titleWidth = Math.max("lesson".length(), lessons.stream().mapToInt(l -> l.sample().title().length()).max().orElse(0));
        String format = "%-" + nameWidth + "s  %-" + titleWidth + "s  %-11s  %-8s  %s";
        out.println();
        out.println(ansi.string("@|bold == summary|@"));
        out.println(String.format(Locale.ROOT, format, "sample", "lesson", "kext", "expected", "twin"));
        for (Lesson l : lessons) {
            String row = String.format(Locale.ROOT, format, l.sample().name(), l.sample().title(),
                    l.kext().outcomeLabel(), label(l.expected()),
                    l.twin().verdict().label());
            out.println(l.asExpected() ? row : row + "  <- not as the lesson says");
        }
        long good = lessons.stream().filter(Lesson::asExpected).count();
        out.println(good == lessons.size()
                ? "All " + lessons.size() + " samples ended as their lessons say: every broken rule was caught and "
                        + "every twin unloaded clean."
                : (lessons.size() - good) + " of " + lessons.size() + " samples did not end as their lessons say.");
    }

    /**
     * The tour as test cases: each sample's run passes when it ends as its lesson says (a leak is
     * the lesson, not a failure), and each twin passes when it unloads clean.
     */
    private static List<ReportCase> reportCases(List<Lesson> lessons) {
        List<ReportCase> cases = new ArrayList<>();
        for (Lesson l : lessons) {
            cases.add(new ReportCase(l.sample().name(), l.kext().target().className(), l.kext(),
                    l.kext().outcome() == l.expected() ? null : "expected " + label(l.expected()) + ", but "
                            + ReportCase.headline(l.kext())));
            cases.add(new ReportCase(l.sample().name() + " (twin)", l.twin().target().className(), l.twin(),
                    l.twin().verdict() == Verdict.CLEAN ? null : ReportCase.headline(l.twin())));
        }
        return cases;
    }

    private static ObjectNode json(List<Lesson> lessons) {
        ObjectNode root = Json.object();
        root.put("schemaVersion", RunReport.SCHEMA_VERSION);
        ArrayNode array = root.putArray("samples");
        for (Lesson l : lessons) {
            ObjectNode n = array.addObject();
            n.put("name", l.sample().name());
            n.put("title", l.sample().title());
            n.put("rule", l.sample().rule());
            n.put("expected", label(l.expected()));
            n.put("asExpected", l.asExpected());
            n.set("kext", RunReport.json(l.kext()));
            n.set("twin", RunReport.json(l.twin()));
        }
        root.put("allAsExpected", lessons.stream().allMatch(Lesson::asExpected));
        return root;
    }
}
