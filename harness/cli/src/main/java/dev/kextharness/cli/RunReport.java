package dev.kextharness.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.kernel.report.ZoneRow;
import dev.kextharness.kernel.report.Zprint;
import dev.kextharness.kernel.report.ZprintOptions;
import picocli.CommandLine.Help.Ansi;

import java.io.PrintWriter;

/** How a {@link KextRun} is shown: as text for a person, or as JSON for a program. */
final class RunReport {
    private static final ZprintOptions ZPRINT = ZprintOptions.defaults();
    /**
     * The version of the {@code --json} layout of {@code load} and {@code demo}, published as the
     * JSON Schemas {@link #LOAD_SCHEMA} and {@link #DEMO_SCHEMA}; the leak report inside has its own.
     */
    static final int SCHEMA_VERSION = 1;
    static final String LOAD_SCHEMA = "/dev/kextharness/schema/load-run.schema.json";
    static final String DEMO_SCHEMA = "/dev/kextharness/schema/demo.schema.json";

    private RunReport() {
    }

    /** The kernel log lines of the run, each indented and marked. */
    static void printLog(PrintWriter out, KextRun run) {
        for (String line : run.log()) {
            out.println("  | " + line);
        }
    }

    /** The zprint rows that changed during the run, before ({@code -}) and after ({@code +}), in zprint's layout. */
    static void printZoneChanges(PrintWriter out, KextRun run) {
        var changed = run.changedZones();
        if (changed.isEmpty()) {
            out.println("  (no zone changed)");
            return;
        }
        for (String line : Zprint.header(ZPRINT).split("\n")) {
            out.println("    " + line);
        }
        for (ZoneRow[] pair : changed) {
            if (pair[0] != null) {
                out.print("  - " + Zprint.row(pair[0], ZPRINT));
            }
            out.print("  + " + Zprint.row(pair[1], ZPRINT));
        }
    }

    /** The verdict word, coloured on a terminal. */
    static String verdictWord(Ansi ansi, Verdict verdict) {
        String style = switch (verdict) {
            case CLEAN -> "bold,green";
            case LEAK, FINDING -> "bold,yellow";
            case PANIC, LOAD_FAILED -> "bold,red";
        };
        return ansi.string("@|" + style + " " + verdict.label() + "|@");
    }

    /** The verdict's own text: the leak report, the panic log, or why the load failed. */
    static String verdictBody(KextRun run) {
        return switch (run.verdict()) {
            case CLEAN -> run.kext() == null ? "" : run.kext().bundleId() + " " + run.kext().version()
                    + (run.kext().isLoaded() ? " is loaded and started.\n" : " unloaded with nothing outstanding.\n")
                    + suppressedSection(run);
            case LEAK, FINDING -> run.report().render();
            case PANIC -> run.panic().panicLog() + (run.panic().harnessNote() == null ? ""
                    : "\n[harness] " + run.panic().harnessNote() + "\n");
            case LOAD_FAILED -> withoutLog(run.failure().getMessage()) + "\n";
        };
    }

    /** What suppressions took out of a clean verdict, as the leak report lists it; "" if nothing. */
    private static String suppressedSection(KextRun run) {
        if (run.report() == null || run.report().suppressed().isEmpty()) {
            return "";
        }
        String text = run.report().render();
        return text.substring(text.indexOf("  Suppressed"));
    }

    /** A load failure's message without its copy of the kernel log, which the report prints already. */
    private static String withoutLog(String message) {
        int log = message.indexOf("\nKernel log:");
        return log < 0 ? message : message.substring(0, log);
    }

    static void printIndented(PrintWriter out, String text) {
        String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        if (body.isEmpty()) {
            return;
        }
        for (String line : body.split("\n", -1)) {
            if (!line.isEmpty()) {
                out.println("  " + line);
            } else {
                out.println();
            }
        }
    }

    /** The run as a JSON object. */
    static ObjectNode json(KextRun run) {
        ObjectNode node = Json.object();
        node.put("kext", run.target().name());
        node.put("class", run.target().className());
        if (run.kext() != null) {
            node.put("bundleId", run.kext().bundleId());
            node.put("version", run.kext().version());
            node.put("loadTag", run.kext().loadTag());
        }
        node.put("verdict", run.verdict().label());
        node.put("outcome", run.outcomeLabel());
        node.put("exitCode", run.verdict().exitCode());
        ArrayNode log = node.putArray("log");
        run.log().forEach(log::add);
        ArrayNode zones = node.putArray("zoneChanges");
        for (ZoneRow[] pair : run.changedZones()) {
            ObjectNode z = zones.addObject();
            z.put("zone", pair[1].name());
            z.put("countBefore", pair[0] == null ? 0 : pair[0].count());
            z.put("countAfter", pair[1].count());
            z.put("curSizeBefore", pair[0] == null ? 0 : pair[0].curSize());
            z.put("curSizeAfter", pair[1].curSize());
        }
        node.set("report", run.report() == null ? null : Json.read(run.report().toJson()));
        if (run.panic() != null) {
            ObjectNode panic = node.putObject("panic");
            panic.put("panicString", run.panic().panicString());
            panic.put("harnessNote", run.panic().harnessNote());
            panic.put("panicLog", run.panic().panicLog());
        } else {
            node.putNull("panic");
        }
        node.put("failure", run.failure() == null ? null : run.failure().getMessage());
        return node;
    }

}
