package dev.kextharness.kernel.panic;

import dev.kextharness.kernel.ledger.LeakReport;

/**
 * What a kext still loaded held when its kernel panicked: the part of the leak verdict a dead
 * kernel can still give. No stop routine runs after a panic, so these are not leaks at unload;
 * they are what the kext had not given back yet, with the sites that took it.
 */
public final class HeldAtPanic {
    private HeldAtPanic() {
    }

    /** The report with its own headline, for a panic's report, test failure or CLI verdict. */
    public static String render(LeakReport held) {
        String report = held.render();
        int firstLine = report.indexOf('\n');
        String body = firstLine < 0 ? "" : report.substring(firstLine + 1);
        return held.bundleId() + " was still loaded when the kernel panicked, so nothing unloaded it. What it held "
                + "then:\n" + body;
    }
}
