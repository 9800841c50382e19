package dev.kextharness.kernel.ledger;

import org.apiguardian.api.API;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/**
 * What a kext left behind at unload: its outstanding allocations, one group per call site, largest
 * first, and the harness findings against it. Reads like this:
 *
 * <pre>
 * KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) outstanding at unload
 *   1 allocation of 1 byte (16 wired) in kalloc.16, by _MALLOC
 *       at MemleakKext.start(MemleakKext.java:23)
 *       block 0xffffff8040000000
 *       fix: free it with _FREE before stop returns
 *   Total: 1 allocation, 1 byte requested, 16 bytes wired, from 1 call site.
 * </pre>
 *
 * The same content is available as JSON, each site with a {@link CallSite#signature() signature}
 * that does not change when lines move, for CI allowlists.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class LeakReport {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final String bundleId;
    private final LedgerSnapshot outstanding;
    private final List<Finding> findings;
    private final List<HeldPortRight> heldRights;
    private final List<Suppressions.Use> suppressed;

    public LeakReport(String bundleId, LedgerSnapshot outstanding, List<Finding> findings) {
        this(bundleId, outstanding, findings, List.of());
    }

    /** A report that also lists the port rights the kext's code still held. */
    public LeakReport(String bundleId, LedgerSnapshot outstanding, List<Finding> findings,
                      List<HeldPortRight> heldRights) {
        this(bundleId, outstanding, findings, heldRights, List.of());
    }

    /** A report with what {@link Suppressions} took out of it already counted. */
    public LeakReport(String bundleId, LedgerSnapshot outstanding, List<Finding> findings,
                      List<HeldPortRight> heldRights, List<Suppressions.Use> suppressed) {
        this.bundleId = bundleId;
        this.outstanding = outstanding;
        this.findings = List.copyOf(findings);
        this.heldRights = List.copyOf(heldRights);
        this.suppressed = List.copyOf(suppressed);
    }

    public String bundleId() {
        return bundleId;
    }

    public LedgerSnapshot outstanding() {
        return outstanding;
    }

    public List<Finding> findings() {
        return findings;
    }

    /** Port rights the kext's code took and still held at unload. */
    public List<HeldPortRight> heldRights() {
        return heldRights;
    }

    /** The suppressions that took items out of this report, each with how much it took; empty if none matched. */
    public List<Suppressions.Use> suppressed() {
        return suppressed;
    }

    /** True if the kext's code still held port rights at unload. */
    public boolean hasHeldRights() {
        return !heldRights.isEmpty();
    }

    /** True if the kext left nothing behind and broke no rule (apart from what suppressions accepted). */
    public boolean isClean() {
        return outstanding.isEmpty() && findings.isEmpty() && heldRights.isEmpty();
    }

    public boolean hasLeaks() {
        return !outstanding.isEmpty();
    }

    /** The header line alone. */
    public String headline() {
        if (!hasLeaks() && hasHeldRights()) {
            return "KEXT LEAK: " + bundleId + ": " + plural(heldRights.size(), "port right") + " ("
                    + plural(heldRights.stream().mapToLong(HeldPortRight::urefs).sum(), "user reference")
                    + ") held at unload";
        }
        if (isClean()) {
            return "KEXT CLEAN: " + bundleId + ": nothing outstanding at unload"
                    + (suppressed.isEmpty() ? "" : " but what suppressions accepted");
        }
        if (!hasLeaks()) {
            return "KEXT FINDINGS: " + bundleId + ": " + plural(findings.size(), "finding") + " at unload";
        }
        return "KEXT LEAK: " + bundleId + ": " + plural(outstanding.count(), "allocation") + " ("
                + plural(outstanding.requestedBytes(), "byte") + ") outstanding at unload";
    }

    /** The report as text. */
    public String render() {
        StringBuilder sb = new StringBuilder(headline()).append('\n');
        for (LedgerSnapshot.Group g : outstanding.groups()) {
            CallSite site = g.site();
            sb.append("  ").append(plural(g.count(), "allocation")).append(" of ")
                    .append(plural(g.requestedBytes(), "byte")).append(" (").append(g.wiredBytes()).append(" wired) in ")
                    .append(g.zone()).append(", by ").append(site.function());
            if (g.tag() != null) {
                sb.append(" with tag '").append(g.tag()).append('\'');
            }
            sb.append('\n');
            sb.append("      at ").append(site.location()).append('\n');
            sb.append("      ").append(g.count() == 1 ? "block" : "blocks");
            for (long a : g.addresses()) {
                sb.append(String.format(Locale.ROOT, " 0x%x", a));
            }
            if (g.count() > g.addresses().size()) {
                sb.append(" ...");
            }
            sb.append('\n');
            sb.append("      fix: ").append(remedy(site.family())).append('\n');
        }
        if (hasLeaks()) {
            sb.append("  Total: ").append(plural(outstanding.count(), "allocation")).append(", ")
                    .append(plural(outstanding.requestedBytes(), "byte")).append(" requested, ")
                    .append(plural(outstanding.wiredBytes(), "byte")).append(" wired, from ")
                    .append(plural(outstanding.groups().stream().map(g -> g.site().id()).distinct().count(), "call site"))
                    .append(".\n");
        }
        if (hasHeldRights()) {
            sb.append("  Port rights held at unload (each one keeps its port and its name alive):\n");
            for (HeldPortRight r : heldRights) {
                sb.append("    ").append(r.right()).append(" right, ").append(plural(r.urefs(), "uref"))
                        .append(String.format(Locale.ROOT, ", name 0x%x in %s [%d], by %s\n", r.name(), r.process(),
                                r.pid(), r.site().function()));
                sb.append("      at ").append(r.site().location()).append('\n');
                sb.append("      fix: ").append(r.right().equals("receive")
                        ? "destroy it with mach_port_mod_refs(task, name, MACH_PORT_RIGHT_RECEIVE, -1) before stop returns"
                        : r.right().equals("port set")
                        ? "destroy it with mach_port_deallocate before stop returns"
                        : "release each reference with mach_port_deallocate before stop returns").append('\n');
            }
        }
        if (!findings.isEmpty()) {
            sb.append("  Harness findings (real XNU stays silent about these):\n");
            for (Finding f : findings) {
                sb.append("    ").append(f.kind()).append(": ").append(f.message()).append('\n');
                if (f.site() != null) {
                    sb.append("      at ").append(f.site().location()).append('\n');
                }
            }
        }
        appendSuppressed(sb);
        return sb.toString();
    }

    /** The "Suppressed" section, as LeakSanitizer's "Suppressions used": how much each suppression took. */
    private void appendSuppressed(StringBuilder sb) {
        if (suppressed.isEmpty()) {
            return;
        }
        sb.append("  Suppressed (accepted by the suppressions file, not counted in the verdict):\n");
        for (Suppressions.Use u : suppressed) {
            sb.append("    ").append(describe(u)).append(" by '").append(u.name()).append("'\n");
        }
    }

    /** {@code 2 allocations (48 bytes)}, {@code 1 port right}, {@code 1 finding}. */
    private static String describe(Suppressions.Use use) {
        return switch (use.kind()) {
            case Suppressions.LEAK -> plural(use.count(), "allocation") + " (" + plural(use.bytes(), "byte") + ")";
            case Suppressions.PORT_RIGHT -> plural(use.count(), "port right");
            default -> use.bytes() > 0 ? plural(use.count(), "item") + " (" + plural(use.bytes(), "byte") + ")"
                    : plural(use.count(), use.kind().equals("*") ? "item" : "finding");
        };
    }

    private static String remedy(Family family) {
        return switch (family) {
            case OSMALLOC_TAG -> "call OSMalloc_Tagfree, and OSFree every block of the tag, before stop returns";
            case OSMALLOC -> "free it with OSFree (same size, same tag) before stop returns; the tag lives until then";
            case KERNEL, NONE -> "release it before stop returns";
            default -> "free it with " + family.deallocator() + " before stop returns";
        };
    }

    /**
     * The version of {@link #toJson()}'s layout, as its {@code schemaVersion} field says. It changes
     * when a field is removed or changes meaning; fields are added without a change. The layout is
     * published as the JSON Schema {@link #SCHEMA_RESOURCE}.
     */
    public static final int SCHEMA_VERSION = 1;
    /** The class-path resource of the JSON Schema of {@link #toJson()}. */
    public static final String SCHEMA_RESOURCE = "/dev/kextharness/schema/leak-report.schema.json";

    /** The report as JSON: kext, totals, one object per group with a stable site signature, findings, suppressions used. */
    public String toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("schemaVersion", SCHEMA_VERSION);
        root.put("kext", bundleId);
        root.put("allocations", outstanding.count());
        root.put("requestedBytes", outstanding.requestedBytes());
        root.put("wiredBytes", outstanding.wiredBytes());
        ArrayNode groups = root.putArray("sites");
        for (LedgerSnapshot.Group g : outstanding.groups()) {
            ObjectNode n = groups.addObject();
            n.put("signature", g.site().signature());
            n.put("function", g.site().function());
            n.put("family", g.site().family().allocator());
            n.put("class", g.site().className());
            n.put("method", g.site().methodName());
            n.put("file", g.site().fileName());
            n.put("line", g.site().line());
            n.put("zone", g.zone());
            if (g.tag() != null) {
                n.put("tag", g.tag());
            }
            n.put("count", g.count());
            n.put("requestedBytes", g.requestedBytes());
            n.put("wiredBytes", g.wiredBytes());
            ArrayNode addresses = n.putArray("addresses");
            g.addresses().forEach(a -> addresses.add(String.format(Locale.ROOT, "0x%x", a)));
        }
        ArrayNode rights = root.putArray("portRights");
        for (HeldPortRight r : heldRights) {
            ObjectNode n = rights.addObject();
            n.put("signature", r.site().signature());
            n.put("function", r.site().function());
            n.put("location", r.site().location());
            n.put("class", r.site().className());
            n.put("method", r.site().methodName());
            n.put("file", r.site().fileName());
            n.put("line", r.site().line());
            n.put("pid", r.pid());
            n.put("process", r.process());
            n.put("name", String.format(Locale.ROOT, "0x%x", r.name()));
            n.put("right", r.right());
            n.put("urefs", r.urefs());
        }
        ArrayNode fs = root.putArray("findings");
        for (Finding f : findings) {
            ObjectNode n = fs.addObject();
            n.put("kind", f.kind().name());
            n.put("message", f.message());
            if (f.site() != null) {
                n.put("signature", f.site().signature());
                n.put("location", f.site().location());
                n.put("function", f.site().function());
                n.put("class", f.site().className());
                n.put("method", f.site().methodName());
                n.put("file", f.site().fileName());
                n.put("line", f.site().line());
            }
            ArrayNode related = n.putArray("related");
            for (CallSite r : f.related()) {
                ObjectNode site = related.addObject();
                site.put("signature", r.signature());
                site.put("location", r.location());
                site.put("function", r.function());
                site.put("class", r.className());
                site.put("method", r.methodName());
                site.put("file", r.fileName());
                site.put("line", r.line());
            }
        }
        ArrayNode used = root.putArray("suppressed");
        for (Suppressions.Use u : suppressed) {
            ObjectNode n = used.addObject();
            n.put("name", u.name());
            n.put("kind", u.kind());
            n.put("count", u.count());
            n.put("requestedBytes", u.bytes());
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("could not write the leak report as JSON", e);
        }
    }

    private static String plural(long n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    @Override
    public String toString() {
        return render();
    }
}
