package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kext.KextLinkException.Unresolved;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The texts of the kext manager's exceptions: the user-space tool's line first ({@code kextload},
 * {@code kextunload}, kxld), then what rule was broken and what to do about it.
 */
final class KextMessages {
    private KextMessages() {
    }

    /** kxld's list of unresolved symbols, each with where it is used, then the rules they break. */
    static String unresolvedSymbols(String id, List<Unresolved> unresolved) {
        StringBuilder m = new StringBuilder("kxld[").append(id).append("]: ")
                .append("The following symbols are unresolved for this kext:\n");
        int width = unresolved.stream().mapToInt(u -> u.symbol().length()).max().orElse(0);
        for (Unresolved u : unresolved) {
            m.append("  ").append(u.symbol()).append(" ".repeat(width - u.symbol().length() + 3))
                    .append("referenced from ").append(u.referencedFrom()).append("   [").append(u.rule()).append("]\n");
        }
        m.append("Link failed (error code ").append(KextLinkException.KXLD_ERROR).append(").\n");
        m.append("A kext may use only the KPI (dev.kextharness.kpi) and the JDK's basic packages (java.*, javax.*), "
                + "besides its own classes and the libraries on its class path; the kernel exports nothing else:");
        Set<String> rules = new LinkedHashSet<>();
        unresolved.forEach(u -> rules.add(u.rule()));
        for (String tag : rules) {
            m.append("\n  [").append(tag).append("] ").append(LinkChecker.explanation(tag));
        }
        m.append("\nRemove or replace these references and load the kext again; nothing of it was loaded.");
        return m.toString();
    }

    /** kextload's message: {@code "%s failed to load - %s; check the system/kernel logs ..."}. */
    static String failedToLoad(String id, int result) {
        return id + " failed to load - " + KextReturn.text(result)
                + "; check the system/kernel logs for errors or try kextutil(8).";
    }

    /** kextunload's message: {@code "Failed to unload %s - %s."}. */
    static String failedToUnload(String id, int result) {
        return "Failed to unload " + id + " - " + KextReturn.text(result) + ".";
    }

    static String names(List<LoadedKext> kexts) {
        List<String> out = new ArrayList<>();
        kexts.forEach(k -> out.add(k.bundleId() + " (load tag " + k.loadTag() + ")"));
        return String.join(", ", out);
    }

    static String kernReturn(int code) {
        String name = KernReturnNames.name(code);
        return "0x" + Integer.toHexString(code) + (name == null ? "" : " (" + name + ")");
    }

    /** The exception and where the kext threw it, as {@code Class.method(File.java:line)}. */
    static String describe(Throwable t) {
        StringBuilder out = new StringBuilder(t.toString());
        StackTraceElement[] trace = t.getStackTrace();
        if (trace.length > 0) {
            StackTraceElement top = trace[0];
            String file = top.getFileName() == null ? "Unknown Source"
                    : top.getLineNumber() >= 0 ? top.getFileName() + ":" + top.getLineNumber() : top.getFileName();
            out.append(" at ").append(top.getClassName()).append('.').append(top.getMethodName())
                    .append('(').append(file).append(')');
        }
        return out.toString();
    }
}
