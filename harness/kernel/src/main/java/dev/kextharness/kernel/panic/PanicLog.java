package dev.kextharness.kernel.panic;

import static dev.kextharness.kernel.report.CFields.left;
import static dev.kextharness.kernel.report.CFields.pointer;
import static dev.kextharness.kernel.report.CFields.right;
import static dev.kextharness.kernel.report.CFields.unsigned;
import static dev.kextharness.kernel.report.CFields.zeroPaddedHex;

import dev.kextharness.kernel.panic.PanicReport.BacktraceKext;
import dev.kextharness.kernel.panic.PanicReport.Dependency;
import dev.kextharness.kernel.panic.PanicReport.Frame;
import dev.kextharness.kernel.panic.PanicReport.KextEvent;
import dev.kextharness.kernel.panic.PanicReport.KmodUsage;
import dev.kextharness.kernel.panic.PanicReport.LoadedKext;
import dev.kextharness.kernel.panic.PanicReport.PanicDiags;
import dev.kextharness.kernel.panic.PanicReport.ZleakTrace;
import dev.kextharness.kernel.panic.PanicReport.ZoneUsage;
import dev.kextharness.kernel.panic.PanicReport.ZprintSection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The x86_64 panic log of xnu-6153 (fact sheet §8.4), rendered from a {@link PanicReport}.
 *
 * <p>Sections in the kernel's order: the panic line; the backtrace (at most 48 frames, then
 * {@code "\tBacktrace continues..."} when the chain had 48 or more); the kexts in the backtrace
 * with their dependencies; the BSD process name; boot args; OS and kernel versions; kernel UUID,
 * slide and text bases; model name; root disk errors; shutdown and panic-diags lines; uptime;
 * the zone summary; the zleaks suspect; the last loaded and unloaded kexts and the loaded-kext
 * list. The panic line ends with a newline of its own, so a message that itself ends with one
 * (the seed article's kext panic) leaves a blank line before the backtrace.
 *
 * <p>Choices where the fact sheet is silent, taken from xnu's code and the seed article's log:
 * blank lines come only from the kernel's own {@code "\n..."} formats (before the process name,
 * OS version, kernel version, uptime, the {@code Kmod} list and the zleaks block, and one after
 * the zleaks block). A line whose value the kernel would not have is omitted, as the kernel
 * omits it: empty boot args, UUID or model name; the slide and text base when the slide is 0.
 * The process name is cut to {@code p_comm}'s 16 characters. Pointers print as the kernel's
 * {@code %p} does, so NULL is {@code 0}. The register dump of NMI backtraces and the invalid-frame
 * messages are not rendered: a simulated backtrace has no bad frames.
 *
 * <p>Stability: stable.
 */
public final class PanicLog {

    /** Frames printed for an ordinary panic (a double fault prints 80). */
    public static final int MAX_FRAMES = 48;
    /** Return addresses the zleaks block prints ({@code MAX_ZTRACE_DEPTH}). */
    public static final int MAX_ZTRACE_DEPTH = 15;

    private static final int MAXCOMLEN = 16;
    private static final int KMOD_MAX_NAME = 64;
    private static final long ONE_MIB = 1024 * 1024;
    private static final String APPLE_PREFIX = "com.apple.";

    /** {@code kext_identifier_prefix_subs}: only the first match is replaced. */
    private static final List<Substitution> PREFIXES = List.of(
            new Substitution("com.apple.driver.", ">"),
            new Substitution("com.apple.iokit.", "|"),
            new Substitution("com.apple.security.", "$"),
            new Substitution("com.apple.", "@"));

    /** {@code kext_identifier_substring_subs}: tried in this order at every position. */
    private static final List<Substitution> SUBSTRINGS = List.of(
            new Substitution("AppleUSB", "!U"),
            new Substitution("Apple", "!A"),
            new Substitution("Family", "!F"),
            new Substitution("Storage", "!S"),
            new Substitution("Controller", "!C"),
            new Substitution("Bluetooth", "!B"),
            new Substitution("Intel", "!I"));

    private record Substitution(String text, String replacement) {
    }

    private PanicLog() {
    }

    /** The whole panic log. */
    public static String render(PanicReport report) {
        Objects.requireNonNull(report, "report");
        StringBuilder out = new StringBuilder(4096);
        appendPanicLine(out, report);
        appendBacktrace(out, report);
        appendKextsInBacktrace(out, report.backtraceKexts());
        appendSystemConfiguration(out, report);
        if (report.zprint() != null) {
            appendZprint(out, report.zprint());
        }
        if (report.zleak() != null) {
            appendZleak(out, report.zleak());
        }
        appendKextLists(out, report);
        return out.toString();
    }

    /**
     * {@code compactIdentifier()}: the first matching prefix becomes one character, then every
     * listed substring after the first character becomes {@code !} and a letter. Only the first
     * 63 characters count, as {@code kmod_info.name} holds no more.
     */
    public static String compactIdentifier(String bundleId) {
        String name = bundleId.length() > KMOD_MAX_NAME - 1 ? bundleId.substring(0, KMOD_MAX_NAME - 1) : bundleId;
        StringBuilder out = new StringBuilder(name.length());
        int from = 0;
        for (Substitution prefix : PREFIXES) {
            if (name.startsWith(prefix.text())) {
                out.append(prefix.replacement());
                from = prefix.text().length();
                break;
            }
        }
        while (from < name.length()) {
            Substitution match = from == 0 ? null : substringAt(name, from);
            if (match != null) {
                out.append(match.replacement());
                from += match.text().length();
            } else {
                out.append(name.charAt(from++));
            }
        }
        return out.toString();
    }

    private static Substitution substringAt(String name, int from) {
        for (Substitution substring : SUBSTRINGS) {
            if (name.startsWith(substring.text(), from)) {
                return substring;
            }
        }
        return null;
    }

    /** Item 1: {@code panic(cpu %d caller 0x%lx): } and the message. */
    private static void appendPanicLine(StringBuilder out, PanicReport report) {
        out.append("panic(cpu ").append(report.cpu()).append(" caller 0x")
                .append(Long.toHexString(report.caller())).append("): ");
        if (report.fromKernel()) {
            // xnu's panic() macro stringifies its format: the text lands inside quotes, escaped.
            out.append('"').append(stringified(report.message())).append("\"@")
                    .append(report.sourceFile()).append(':').append(report.sourceLine());
        } else {
            out.append(report.message());
        }
        out.append('\n');
    }

    /**
     * A kernel panic's message as the {@code panic()} macro prints it: the preprocessor's {@code #}
     * turns the format literal into a string of its own source spelling, so a newline prints as
     * {@code \n}, a quote as {@code \"}, a backslash as {@code \\} (osfmk/kern/debug.h). The
     * arguments formatted into it are escaped too: the harness has only the formatted message,
     * and XNU's arguments (zone names, addresses, numbers) never hold these characters.
     */
    static String stringified(String message) {
        StringBuilder out = new StringBuilder(message.length() + 8);
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '"' -> out.append("\\\"");
                case '\n' -> out.append("\\n");
                case '\t' -> out.append("\\t");
                case '\r' -> out.append("\\r");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** Item 3: frame pointer and return address, each line ending in a space. */
    private static void appendBacktrace(StringBuilder out, PanicReport report) {
        out.append("Backtrace (CPU ").append(report.cpu()).append("), Frame : Return Address\n");
        List<Frame> frames = report.backtrace();
        int shown = Math.min(frames.size(), MAX_FRAMES);
        for (int i = 0; i < shown; i++) {
            Frame frame = frames.get(i);
            out.append(pointer(frame.framePointer())).append(" : 0x")
                    .append(Long.toHexString(frame.returnAddress())).append(" \n");
        }
        if (frames.size() >= MAX_FRAMES) {
            out.append("\tBacktrace continues...\n");
        }
    }

    /** Item 4 (and the zleaks block): {@code OSKext::printKextsInBacktrace}. */
    private static void appendKextsInBacktrace(StringBuilder out, List<BacktraceKext> kexts) {
        if (kexts.isEmpty()) {
            return;
        }
        out.append("      Kernel Extensions in backtrace:\n");
        for (BacktraceKext kext : kexts) {
            out.append("         ").append(kext.bundleId()).append('(').append(kext.version()).append(")[")
                    .append(kext.uuid()).append("]@0x").append(Long.toHexString(kext.address()))
                    .append("->0x").append(Long.toHexString(kext.address() + kext.size() - 1)).append('\n');
            for (Dependency dependency : kext.dependencies()) {
                if (dependency.address() == 0) {
                    continue; // built-in kernel components have no load address
                }
                out.append("            dependency: ").append(dependency.bundleId()).append('(')
                        .append(dependency.version()).append(")[").append(dependency.uuid()).append("]@")
                        .append(pointer(dependency.address())).append('\n');
            }
        }
    }

    /** Items 5 to 10: {@code panic_display_system_configuration()}. */
    private static void appendSystemConfiguration(StringBuilder out, PanicReport report) {
        String process = isEmpty(report.processName()) ? "Unknown" : report.processName();
        if (process.length() > MAXCOMLEN) {
            process = process.substring(0, MAXCOMLEN);
        }
        out.append("\nBSD process name corresponding to current thread: ").append(process).append('\n');
        if (!isEmpty(report.bootArgs())) {
            out.append("Boot args: ").append(report.bootArgs()).append('\n');
        }
        out.append("\nMac OS version:\n")
                .append(isEmpty(report.osVersion()) ? "Not yet set" : report.osVersion()).append('\n');
        out.append("\nKernel version:\n").append(report.kernelVersion()).append('\n');
        if (!isEmpty(report.kernelUuid())) {
            out.append("Kernel UUID: ").append(report.kernelUuid()).append('\n');
        }
        if (report.kernelSlide() != 0) {
            out.append("Kernel slide:     ").append(zeroPaddedHex(report.kernelSlide(), 16)).append('\n');
            out.append("Kernel text base: ").append(pointer(report.kernelTextBase())).append('\n');
        }
        out.append("__HIB  text base: ").append(pointer(report.hibTextBase())).append('\n');
        if (!isEmpty(report.systemModel())) {
            out.append("System model name: ").append(report.systemModel()).append('\n');
        }
        if (report.rootDiskErrors() != null) {
            out.append("Root disk errors: \"").append(report.rootDiskErrors()).append("\"\n");
        }
        if (report.shutdownBegun() != null) {
            out.append("System shutdown begun: ").append(report.shutdownBegun() ? "YES" : "NO").append('\n');
        }
        if (report.panicDiags() != null) {
            appendPanicDiags(out, report.panicDiags());
        }
        out.append("\nSystem uptime in nanoseconds: ").append(unsigned(report.uptimeNanos())).append('\n');
    }

    private static void appendPanicDiags(StringBuilder out, PanicDiags diags) {
        if (!diags.initialized()) {
            out.append("Panic diags file unavailable, panic occurred prior to initialization\n");
            return;
        }
        out.append("Panic diags file available: ").append(diags.openResult() == 0 ? "YES" : "NO")
                .append(" (0x").append(Integer.toHexString(diags.openResult())).append(")\n");
    }

    /** Item 11: {@code panic_display_zprint()}; only zones and kmods above 1 MiB are listed. */
    private static void appendZprint(StringBuilder out, ZprintSection zprint) {
        out.append(left("Zone Name", 20)).append(' ').append(right("Cur Size", 10)).append(' ')
                .append(right("Free Size", 10)).append('\n');
        for (ZoneUsage zone : zprint.zones()) {
            if (Long.compareUnsigned(zone.curSize(), ONE_MIB) > 0) {
                out.append(left(zone.name(), 20)).append(' ').append(right(unsigned(zone.curSize()), 10))
                        .append(' ').append(right(unsigned(zone.freeSize()), 10)).append('\n');
            }
        }
        appendSizeLine(out, "Kernel Stacks", zprint.kernelStacks());
        appendSizeLine(out, "PageTables", zprint.pageTables());
        appendSizeLine(out, "Kalloc.Large", zprint.kallocLarge());
        if (zprint.kmods() != null) {
            out.append('\n').append(left("Kmod", 5)).append(' ').append(right("Size", 10)).append('\n');
            for (KmodUsage kmod : zprint.kmods()) {
                if (kmod.size() > ONE_MIB) {
                    out.append(left(Long.toString(kmod.loadTag()), 5)).append(' ')
                            .append(right(Long.toString(kmod.size()), 10)).append('\n');
                }
            }
        }
    }

    private static void appendSizeLine(StringBuilder out, String name, long bytes) {
        out.append(left(name, 20)).append(' ').append(right(unsigned(bytes), 10)).append('\n');
    }

    /** Item 12: {@code panic_display_ztrace()}. */
    private static void appendZleak(StringBuilder out, ZleakTrace zleak) {
        out.append("\nBacktrace suspected of leaking: (outstanding bytes: ")
                .append(unsigned(zleak.outstandingBytes())).append(")\n");
        int shown = Math.min(zleak.stack().size(), MAX_ZTRACE_DEPTH);
        for (int i = 0; i < shown; i++) {
            out.append(pointer(zleak.stack().get(i))).append(" \n");
        }
        appendKextsInBacktrace(out, zleak.kexts());
        out.append('\n');
    }

    /** Item 13: {@code OSKext::printKextPanicLists()}. */
    private static void appendKextLists(StringBuilder out, PanicReport report) {
        if (report.lastLoaded() != null) {
            appendKextEvent(out, "last loaded kext at ", report.lastLoaded());
        }
        if (report.lastUnloaded() != null) {
            appendKextEvent(out, "last unloaded kext at ", report.lastUnloaded());
        }
        out.append("loaded kexts:\n");
        List<LoadedKext> ordered = panicListOrder(report.loadedKexts());
        if (ordered.isEmpty()) {
            out.append("(none)\n");
            return;
        }
        for (LoadedKext kext : ordered) {
            out.append(identifierAndVersion(kext.bundleId(), kext.version())).append('\n');
        }
    }

    private static void appendKextEvent(StringBuilder out, String label, KextEvent event) {
        out.append(label).append(unsigned(event.timestamp())).append(": ")
                .append(identifierAndVersion(event.bundleId(), event.version()))
                .append(" (addr ").append(pointer(event.address()))
                .append(", size ").append(unsigned(event.size())).append(")\n");
    }

    /** {@code assemble_identifier_and_version()}: compact id, a TAB, the version. */
    private static String identifierAndVersion(String bundleId, String version) {
        return compactIdentifier(bundleId) + "\t" + version;
    }

    /**
     * {@code saveLoadedKextPanicList()}: non-Apple kexts, then Apple non-libraries, then Apple
     * libraries, each group walking the loaded list from the newest kext back.
     */
    static List<LoadedKext> panicListOrder(List<LoadedKext> loadOrder) {
        List<LoadedKext> newestFirst = new ArrayList<>(loadOrder);
        Collections.reverse(newestFirst);
        List<LoadedKext> ordered = new ArrayList<>(newestFirst.size());
        for (LoadedKext kext : newestFirst) {
            if (!kext.bundleId().startsWith(APPLE_PREFIX)) {
                ordered.add(kext);
            }
        }
        for (LoadedKext kext : newestFirst) {
            if (kext.bundleId().startsWith(APPLE_PREFIX) && !kext.library()) {
                ordered.add(kext);
            }
        }
        for (LoadedKext kext : newestFirst) {
            if (kext.bundleId().startsWith(APPLE_PREFIX) && kext.library()) {
                ordered.add(kext);
            }
        }
        return ordered;
    }

    private static boolean isEmpty(String value) {
        return value == null || value.isEmpty();
    }
}
