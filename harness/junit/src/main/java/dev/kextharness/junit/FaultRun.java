package dev.kextharness.junit;

import dev.kextharness.kernel.fault.FaultInjector;
import dev.kextharness.kernel.fault.FaultPlan;
import dev.kextharness.kernel.kext.KextVerdictError;
import dev.kextharness.kernel.kext.KpiContract;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kpi.Kext;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The fault injection of one test: a {@link FailNth}, or one invocation of a
 * {@link FailEachAllocation} (its counting run, or the run that fails allocation n). Arms the
 * kernel's injector when the test starts and judges, when it ends, whether the planned failure
 * happened where it should.
 */
final class FaultRun {
    /** Report entry keys. */
    static final String POINTS_ENTRY = "kextharness.faultPoints";
    static final String INJECTED_ENTRY = "kextharness.faultInjected";
    static final String OUTCOME_ENTRY = "kextharness.faultOutcome";

    private final FaultPlan plan;
    private final String label;
    private final int total;
    private final String expectedSite;
    private final boolean partOfEachAllocation;

    private FaultRun(FaultPlan plan, String label, int total, String expectedSite, boolean partOfEachAllocation) {
        this.plan = plan;
        this.label = label;
        this.total = total;
        this.expectedSite = expectedSite;
        this.partOfEachAllocation = partOfEachAllocation;
    }

    static FaultRun of(FailNth annotation) {
        String label = describe(annotation);
        if (annotation.value() < 1) {
            throw new ExtensionConfigurationException(label + ": fail-nth counts allocations from 1; give the "
                    + "number of the allocation to fail, or use @FailEachAllocation to fail each in turn");
        }
        FaultPlan plan = plan(label, annotation.kext(), annotation.family()).withNth(annotation.value())
                .withPhase(annotation.phase().kernelPhase());
        String function = annotation.function().strip();
        if (!annotation.site().isBlank() || !function.isEmpty()) {
            SitePattern site = SitePattern.parse(annotation.site(), label);
            if (!function.isEmpty() && !isFailableFunction(function)) {
                throw new ExtensionConfigurationException(label + ": '" + function + "' is not an allocating KPI "
                        + "function; name one such as _MALLOC, kalloc, OSMalloc or IOMalloc");
            }
            plan = plan.withSites(s -> site.matches(s) && (function.isEmpty() || function.equals(s.function())),
                    (function.isEmpty() ? "" : "of " + function + " ")
                            + (annotation.site().isBlank() ? "" : "at " + annotation.site().strip()));
        }
        return new FaultRun(plan, label, -1, null, false);
    }

    /** True if the KPI contract declares a function of that name that fault injection can fail. */
    private static boolean isFailableFunction(String name) {
        return KpiContract.catalina().functions().stream().anyMatch(f -> f.failable() && f.name().equals(name));
    }

    private static String describe(FailNth a) {
        StringBuilder sb = new StringBuilder("@FailNth(");
        boolean more = !a.function().isBlank() || !a.site().isBlank() || a.phase() != FailNth.Phase.ANY;
        sb.append(more ? "value = " : "").append(a.value());
        if (!a.function().isBlank()) {
            sb.append(", function = \"").append(a.function()).append('"');
        }
        if (!a.site().isBlank()) {
            sb.append(", site = \"").append(a.site()).append('"');
        }
        if (a.phase() != FailNth.Phase.ANY) {
            sb.append(", phase = ").append(a.phase());
        }
        return sb.append(')').toString();
    }

    /** The first invocation of a {@link FailEachAllocation}: fails nothing, counts the allocation points. */
    static FaultRun counting(FaultPlan plan) {
        return new FaultRun(plan.withNth(0), "counting run", -1, null, true);
    }

    /** The invocation that fails allocation {@code n} of {@code total}, made at {@code site} in the counting run. */
    static FaultRun failing(FaultPlan plan, int n, int total, CallSite site) {
        return new FaultRun(plan.withNth(n), "fail-nth " + n + " of " + total, total, site.toString(), true);
    }

    /** The selection of an annotation's kext and family attributes. */
    static FaultPlan plan(String where, Class<? extends Kext>[] kexts, Family[] families) {
        List<String> ids = new ArrayList<>();
        for (Class<? extends Kext> kext : kexts) {
            ids.add(KextHarnessExtension.bundleId(kext));
        }
        try {
            return FaultPlan.countOnly().withKexts(ids).withFamilies(Arrays.asList(families));
        } catch (IllegalArgumentException e) {
            throw new ExtensionConfigurationException(where + ": " + e.getMessage(), e);
        }
    }

    FaultPlan plan() {
        return plan;
    }

    String label() {
        return label;
    }

    /** How the invocation of a {@link FailEachAllocation} is named. */
    String displayName() {
        return plan.nth() == 0 ? "counting run: no allocation failed" : label + ": " + expectedSite;
    }

    /**
     * Whether an exception the test threw is the expected outcome of the injected failure: only in
     * a {@link FailEachAllocation} run, only once the failure was injected, and never a panic or a
     * leak verdict, which are what the run is looking for.
     */
    boolean tolerates(Throwable thrown, FaultInjector faults) {
        return partOfEachAllocation && plan.nth() > 0 && faults.injected() && !carriesVerdict(thrown, new IdentityHashMap<>());
    }

    private static boolean carriesVerdict(Throwable t, Map<Throwable, Boolean> seen) {
        if (t == null || seen.put(t, Boolean.TRUE) != null) {
            return false;
        }
        if (t instanceof KernelPanic || t instanceof KextVerdictError) {
            return true;
        }
        for (Throwable suppressed : t.getSuppressed()) {
            if (carriesVerdict(suppressed, seen)) {
                return true;
            }
        }
        return carriesVerdict(t.getCause(), seen);
    }

    /** After the test: publishes what was counted or failed, and adds a failure if the plan was not carried out. */
    void judge(FaultInjector faults, ExtensionContext context, List<Throwable> failures) {
        if (plan.nth() == 0) {
            StringBuilder points = new StringBuilder(faults.count() + " allocation points");
            List<CallSite> sites = faults.sites();
            for (int i = 0; i < sites.size(); i++) {
                points.append("\n  ").append(i + 1).append(": ").append(sites.get(i));
            }
            context.publishReportEntry(POINTS_ENTRY, points.toString());
            if (faults.count() == 0) {
                failures.add(new AssertionError("@FailEachAllocation: the counting run made no allocation of "
                        + scope() + ", so there is no error path to fail. Load and exercise the kexts in the test, "
                        + "and check the kext and family attributes"));
            }
            return;
        }
        if (!faults.injected()) {
            failures.add(new AssertionError(label + ": allocation " + plan.nth() + " was never made; the test made "
                    + faults.count() + " allocation" + (faults.count() == 1 ? "" : "s") + " of " + scope()
                    + (total < 0 ? ", so nothing failed. Count the allocations again, or narrow them with the kext "
                    + "and family attributes" : " where the counting run made " + total
                    + ": the test or its kexts allocate differently from run to run")));
            return;
        }
        String injected = faults.injectedSite().toString();
        context.publishReportEntry(INJECTED_ENTRY, "fail-nth " + plan.nth() + ": " + injected + " returned NULL");
        if (expectedSite != null && !expectedSite.equals(injected)) {
            failures.add(new AssertionError(label + ": the counting run made allocation " + plan.nth() + " at "
                    + expectedSite + ", but this run made it at " + injected
                    + ": the test or its kexts allocate differently from run to run"));
        }
    }

    /**
     * In a {@link FailEachAllocation} run whose allocation was failed, the verdict wrapped in an
     * {@link ErrorPathFailure} naming that allocation, so that the report says which error path failed;
     * otherwise the verdict as it is.
     */
    Throwable explain(Throwable verdict, FaultInjector faults) {
        if (!partOfEachAllocation || plan.nth() == 0 || !faults.injected() || verdict instanceof ErrorPathFailure) {
            return verdict;
        }
        return new ErrorPathFailure(label + ": " + faults.injectedSite(), verdict);
    }

    /** Publishes the test's own exception, tolerated as the outcome of the injected failure. */
    void publishOutcome(ExtensionContext context, FaultInjector faults, Throwable thrown) {
        // A kext that failed to start under @LoadKext arrives wrapped by JUnit's parameter resolution.
        Throwable shown = thrown instanceof ParameterResolutionException && thrown.getCause() != null
                ? thrown.getCause() : thrown;
        String message = String.valueOf(shown.getMessage()).strip();
        int newline = message.indexOf('\n');
        context.publishReportEntry(OUTCOME_ENTRY, "after " + faults.injectedSite() + " returned NULL, the test ended "
                + "with " + shown.getClass().getSimpleName() + ": " + (newline < 0 ? message : message.substring(0, newline))
                + " (expected of an error path: the invocation is judged on panics and leaks)");
    }

    private String scope() {
        String families = plan.families().isEmpty() ? "any allocator" : String.join(", ",
                plan.families().stream().map(Family::allocator).collect(java.util.stream.Collectors.toCollection(TreeSet::new)));
        String kexts = plan.kexts().isEmpty() ? "any kext" : String.join(", ", new TreeSet<>(plan.kexts()));
        return families + " in " + kexts;
    }
}
