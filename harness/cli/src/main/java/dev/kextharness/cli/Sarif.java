package dev.kextharness.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.HeldPortRight;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.ledger.Suppressions;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Leaks, held port rights, findings and panics as SARIF 2.1.0, the format code-review tools
 * (GitHub code scanning, GitLab, IDE viewers) show at source lines. One run of one tool
 * ({@code kext-harness}); one rule per kind ({@code leak}, {@code port-right}, each finding kind,
 * {@code panic}); one result per call site, located at the kext's source file (its package path
 * under {@code sourceRoot}) and line, with the call-site signature as a partial fingerprint so
 * that a result keeps its identity when lines move.
 */
final class Sarif {
    static final String VERSION = "2.1.0";
    static final String SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

    private static final Map<String, String> RULES = new LinkedHashMap<>();

    static {
        RULES.put(Suppressions.LEAK, "Allocations outstanding when the kext unloaded: free them before stop returns.");
        RULES.put(Suppressions.PORT_RIGHT, "A Mach port right the kext still held when it unloaded.");
        for (Finding.Kind kind : Finding.Kind.values()) {
            RULES.put(Suppressions.kindName(kind), "Harness finding " + kind + ": a misuse real XNU accepts silently.");
        }
        RULES.put("panic", "The simulated kernel panicked.");
    }

    private Sarif() {
    }

    static String render(List<ReportCase> cases, String sourceRoot) {
        ObjectNode root = Json.object();
        root.put("$schema", SCHEMA);
        root.put("version", VERSION);
        ObjectNode run = root.putArray("runs").addObject();
        ObjectNode driver = run.putObject("tool").putObject("driver");
        driver.put("name", "kext-harness");
        driver.put("informationUri", "https://github.com/kextharness/kext-harness");
        ArrayNode rules = driver.putArray("rules");
        RULES.forEach((id, text) -> {
            ObjectNode rule = rules.addObject();
            rule.put("id", id);
            rule.putObject("shortDescription").put("text", text);
        });
        ArrayNode results = run.putArray("results");
        String prefix = sourceRoot == null || sourceRoot.isBlank() ? "" : sourceRoot.replace('\\', '/').replaceAll("/+$", "") + "/";
        for (ReportCase c : cases) {
            LeakReport report = c.run().report();
            if (report != null) {
                for (LedgerSnapshot.Group g : report.outstanding().groups()) {
                    result(results, Suppressions.LEAK, "warning", report.bundleId() + ": " + g.count() + " allocation"
                            + (g.count() == 1 ? "" : "s") + " of " + g.requestedBytes() + " bytes by " + g.site().function()
                            + " outstanding at unload (" + g.zone() + ")", g.site(), prefix);
                }
                for (HeldPortRight r : report.heldRights()) {
                    result(results, Suppressions.PORT_RIGHT, "warning", report.bundleId() + ": " + r.right()
                            + " right held at unload, taken by " + r.site().function(), r.site(), prefix);
                }
                for (Finding f : report.findings()) {
                    ObjectNode r = result(results, Suppressions.kindName(f.kind()), "warning",
                            report.bundleId() + ": " + f.message(), f.site(), prefix);
                    ArrayNode related = r.putArray("relatedLocations");
                    for (int i = 0; i < f.related().size(); i++) {
                        ObjectNode location = related.addObject().put("id", i + 1);
                        locate(location, f.related().get(i), prefix);
                        location.putObject("message").put("text", f.related().get(i).function() + " here");
                    }
                }
            }
            if (c.run().panic() != null) {
                CallSite site = report != null && report.hasLeaks() ? report.outstanding().groups().get(0).site() : null;
                result(results, "panic", "error", c.name() + ": panic: " + c.run().panic().panicString().strip(), site, prefix);
            }
        }
        return Json.write(root) + "\n";
    }

    private static ObjectNode result(ArrayNode results, String rule, String level, String message, CallSite site,
                                     String root) {
        ObjectNode r = results.addObject();
        r.put("ruleId", rule);
        r.put("ruleIndex", List.copyOf(RULES.keySet()).indexOf(rule));
        r.put("level", level);
        r.putObject("message").put("text", message);
        if (site == null) {
            return r;
        }
        ObjectNode location = r.putArray("locations").addObject();
        locate(location, site, root);
        ObjectNode logical = location.putArray("logicalLocations").addObject();
        logical.put("fullyQualifiedName", site.className() + "." + site.methodName());
        logical.put("kind", "function");
        r.putObject("partialFingerprints").put("callSite/v1", site.signature());
        r.putObject("properties").put("kext", site.bundleId()).put("function", site.function())
                .put("family", site.family().allocator());
        return r;
    }

    /** The physical location of a call site: its source file under {@code root} and its line, when known. */
    private static void locate(ObjectNode location, CallSite site, String root) {
        if (site.fileName() != null) {
            ObjectNode physical = location.putObject("physicalLocation");
            String pkg = site.className().contains(".")
                    ? site.className().substring(0, site.className().lastIndexOf('.')).replace('.', '/') + "/" : "";
            physical.putObject("artifactLocation").put("uri", root + pkg + site.fileName());
            if (site.line() > 0) {
                physical.putObject("region").put("startLine", site.line());
            }
        }
    }
}
