package dev.kextharness.cli;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.KextVerdictError;
import dev.kextharness.kernel.kext.KextLoadException;
import dev.kextharness.kernel.kext.KextUnloadException;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.report.ZoneRow;
import dev.kextharness.samples.Sample;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One kext's life in one kernel: load, start, exercise, and (optionally) stop and unload, with
 * everything a report needs: the kernel log lines written meanwhile, the zones before and after,
 * and the verdict. A kext's misbehaviour (a panic, a leak, a failed start or stop) becomes the
 * verdict; it never escapes.
 *
 * @param target    what was loaded
 * @param kext      the loaded kext, or null if it never loaded
 * @param verdict   how it ended
 * @param log       the kernel log lines written during the run
 * @param before    the zones just before the load
 * @param after     the zones when the run ended (after the unload, or at the panic)
 * @param report    the leak report of the unload (also when the kernel panicked over it), or null
 * @param panic     the panic, or null
 * @param failure   why the load or unload failed, or null
 */
record KextRun(KextTarget target, LoadedKext kext, Verdict verdict, List<String> log, List<ZoneRow> before,
               List<ZoneRow> after, LeakReport report, KernelPanic panic, RuntimeException failure) {

    /** How the kernel's panic string starts when the harness panics over findings without leaks. */
    private static final String FINDINGS_PANIC = "KEXT FINDINGS: ";

    /** Runs {@code target} in {@code kernel}; {@code unload} false leaves it loaded for kextstat and zprint. */
    static KextRun of(Kernel kernel, KextTarget target, boolean unload) {
        int logStart = kernel.log().size();
        List<ZoneRow> before = kernel.zoneRows();
        LoadedKext kext = null;
        Verdict verdict = Verdict.CLEAN;
        LeakReport report = null;
        KernelPanic panic = null;
        RuntimeException failure = null;
        try {
            kext = target.load(kernel);
            target.exercise().run(kernel, kext);
            if (unload) {
                kernel.kextunload(kext);
                report = kernel.leakReport(kext);
                verdict = verdictOf(report);
            }
        } catch (KernelPanic p) {
            panic = p;
            verdict = Verdict.PANIC;
            // The kernel judged the unload before it panicked over the leak: keep its report.
            report = kext == null ? null : kernel.leakReport(kext);
        } catch (KextVerdictError e) {
            report = e.report();
            verdict = verdictOf(report);
        } catch (KextLoadException | KextUnloadException e) {
            failure = e;
            verdict = Verdict.LOAD_FAILED;
        }
        return new KextRun(target, kext, verdict, kernel.log().textSince(logStart), before, kernel.zoneRows(), report,
                panic, failure);
    }

    /**
     * The run as the sample catalog classifies it ({@link Sample.Outcome}): like the verdict, but a
     * harness panic over findings alone (panic string {@code KEXT FINDINGS: ...}) is a finding,
     * not a panic. Null for a kext that failed to load or unload.
     */
    Sample.Outcome outcome() {
        return switch (verdict) {
            case CLEAN -> Sample.Outcome.CLEAN;
            case LEAK -> Sample.Outcome.LEAK;
            case FINDING -> Sample.Outcome.FINDING;
            case PANIC -> panic.panicString().startsWith(FINDINGS_PANIC) ? Sample.Outcome.FINDING : Sample.Outcome.PANIC;
            case LOAD_FAILED -> null;
        };
    }

    /** What the outcome is called in tables and JSON: {@code panic}, {@code finding}, {@code load-failed}. */
    String outcomeLabel() {
        Sample.Outcome outcome = outcome();
        return outcome == null ? verdict.label() : outcome.name().toLowerCase(Locale.ROOT);
    }

    /** Whether the run shows a balance rule broken: a leak, a finding or a panic (not clean, not a failed load). */
    boolean brokeARule() {
        return verdict == Verdict.LEAK || verdict == Verdict.FINDING || verdict == Verdict.PANIC;
    }

    private static Verdict verdictOf(LeakReport report) {
        if (report == null || report.isClean()) {
            return Verdict.CLEAN;
        }
        return report.hasLeaks() ? Verdict.LEAK : Verdict.FINDING;
    }

    /** The zones whose elements in use or size changed during the run, as before/after pairs. */
    List<ZoneRow[]> changedZones() {
        Map<String, ZoneRow> earlier = new HashMap<>();
        before.forEach(z -> earlier.put(z.name(), z));
        List<ZoneRow[]> changed = new ArrayList<>();
        for (ZoneRow now : after) {
            ZoneRow then = earlier.get(now.name());
            if (then == null || then.count() != now.count() || then.curSize() != now.curSize()) {
                changed.add(new ZoneRow[]{then, now});
            }
        }
        return changed;
    }
}
