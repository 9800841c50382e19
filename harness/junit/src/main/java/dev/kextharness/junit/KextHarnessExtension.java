package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.KextVerdictError;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.HeldPortRight;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kpi.KextBundle;
import org.junit.jupiter.api.MediaType;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ExtensionContext.Store;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.platform.commons.support.AnnotationSupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The JUnit 5 extension: a freshly booted simulated kernel per test, injected as a {@link Kernel}
 * parameter; kexts loaded with {@link LoadKext}; after the test, every kext still loaded is
 * unloaded and what it left behind is judged. Under {@link LeakPolicy#FAIL} (the default) a leak
 * fails the test with the leak report as its message; if the test had already failed, its own
 * failure stays primary and the leak is attached to it as suppressed. Leak reports and panic logs
 * are published as report entries and as files. {@link FailNth} and {@link FailEachAllocation} inject allocation
 * failures; {@link ExpectLeak} and {@link ExpectPanic} state expected outcomes.
 *
 * <p>Register it with {@link KextTest}, or programmatically with {@link #builder()} and
 * {@code @RegisterExtension}, not both. All state lives in the test's
 * {@link ExtensionContext.Store}, so tests may run in parallel.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class KextHarnessExtension
        implements BeforeEachCallback, AfterEachCallback, ParameterResolver, TestExecutionExceptionHandler {

    private static final Namespace NAMESPACE = Namespace.create(KextHarnessExtension.class);
    private static final String PROPERTIES_FILE = "junit-platform.properties";

    /** Report entry keys. */
    static final String LEAK_ENTRY = "kextharness.leak";
    static final String LEAK_JSON_ENTRY = "kextharness.leak.json";
    static final String PANIC_ENTRY = "kextharness.panicLog";
    /** What suppressions accepted from a kext that otherwise unloaded clean. */
    static final String SUPPRESSED_ENTRY = "kextharness.suppressed";
    /** Published, with the reason, instead of a file the test run could not take. */
    static final String FILE_NOT_PUBLISHED_ENTRY = "kextharness.fileNotPublished";

    /** XNU's panic file name: {@code Kernel-2020-08-06-032109.panic}, local time when it was written. */
    private static final DateTimeFormatter PANIC_FILE = DateTimeFormatter.ofPattern("yyyy-MM-dd-HHmmss");

    /** What the builder set; beats annotations and configuration parameters. */
    private final HarnessSettings overrides;

    /** The extension as {@code @KextTest} registers it: settings from annotations and configuration. */
    public KextHarnessExtension() {
        this(HarnessSettings.NONE);
    }

    private KextHarnessExtension(HarnessSettings overrides) {
        this.overrides = overrides;
    }

    /** For {@code @RegisterExtension static KextHarnessExtension kernel = KextHarnessExtension.builder()...build();}. */
    public static Builder builder() {
        return new Builder();
    }

    // ---------------------------------------------------------------------------------------------
    // Boot

    @Override
    public void beforeEach(ExtensionContext context) {
        Store store = context.getStore(NAMESPACE);
        if (store.get(TestKernel.class) != null) {
            // Two registrations would boot two kernels and judge each other's kexts.
            throw new ExtensionConfigurationException("KextHarnessExtension is registered twice for "
                    + context.getDisplayName() + ": use either @KextTest or a @RegisterExtension field, not both");
        }
        HarnessSettings settings = settings(context);
        List<LeakExpectation> expectLeaks = context.getTestMethod()
                .map(m -> AnnotationSupport.findRepeatableAnnotations(m, ExpectLeak.class)).orElse(List.of())
                .stream().map(LeakExpectation::of).toList();
        ExpectPanic expectPanic = context.getTestMethod()
                .flatMap(m -> AnnotationSupport.findAnnotation(m, ExpectPanic.class)).orElse(null);
        List<FindingExpectation> expectFindings = context.getTestMethod()
                .map(m -> AnnotationSupport.findRepeatableAnnotations(m, ExpectFinding.class)).orElse(List.of())
                .stream().map(FindingExpectation::of).toList();
        var config = settings.kernelConfig();
        if (!expectLeaks.isEmpty() || !expectFindings.isEmpty()) {
            // The kernel stays silent, as XNU would, and the extension judges each kext instead.
            config = config.withLeakPolicy(LeakPolicy.XNU);
        }
        var suppressions = settings.suppressions();
        Kernel kernel = Kernel.boot(config);
        kernel.useSuppressions(suppressions);
        TestKernel test = new TestKernel(kernel, expectLeaks, expectFindings, expectPanic);
        store.put(TestKernel.class, test);
        context.getTestMethod().flatMap(m -> AnnotationSupport.findAnnotation(m, FailNth.class))
                .ifPresent(failNth -> test.armFaults(FaultRun.of(failNth), "@FailNth"));
    }

    /** The kernel of the test running in this context, or null if the extension did not boot one. */
    static TestKernel testKernel(ExtensionContext context) {
        return context.getStore(NAMESPACE).get(TestKernel.class, TestKernel.class);
    }

    /** Configuration parameters, then @KextTest on the enclosing classes outward-in, then the method, then the builder. */
    private HarnessSettings settings(ExtensionContext context) {
        HarnessSettings settings = HarnessSettings.fromConfiguration(context::getConfigurationParameter, visibleKeys());
        List<Class<?>> classes = new ArrayList<>();
        for (Class<?> c = context.getRequiredTestClass(); c != null; c = c.getEnclosingClass()) {
            classes.add(0, c);
        }
        for (Class<?> c : classes) {
            Optional<KextTest> test = AnnotationSupport.findAnnotation(c, KextTest.class);
            if (test.isPresent()) {
                settings = settings.overriddenBy(HarnessSettings.fromAnnotation(test.get(), c.getName()));
            }
        }
        Optional<Method> method = context.getTestMethod();
        Optional<KextTest> onMethod = method.flatMap(m -> AnnotationSupport.findAnnotation(m, KextTest.class));
        if (onMethod.isPresent()) {
            settings = settings.overriddenBy(HarnessSettings.fromAnnotation(onMethod.get(), method.get().toString()));
        }
        return settings.overriddenBy(overrides);
    }

    /**
     * The configuration keys that can be listed. ExtensionContext looks parameters up by key only
     * (in 5.14 and 6.0 alike), so the keys come from the sources themselves: the launcher's test
     * plan (through {@link LauncherConfigurationKeys}), system properties and
     * junit-platform.properties. Only a key given to an engine run without a launcher
     * (EngineTestKit) is read without being listed.
     */
    private static Set<String> visibleKeys() {
        Set<String> keys = new HashSet<>(System.getProperties().stringPropertyNames());
        keys.addAll(LauncherConfigurationKeys.keys());
        ClassLoader loader = Objects.requireNonNullElse(Thread.currentThread().getContextClassLoader(),
                KextHarnessExtension.class.getClassLoader());
        URL url = loader.getResource(PROPERTIES_FILE);
        if (url != null) {
            Properties properties = new Properties();
            try (InputStream in = url.openStream()) {
                properties.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("could not read " + url, e);
            }
            keys.addAll(properties.stringPropertyNames());
        }
        return keys;
    }

    // ---------------------------------------------------------------------------------------------
    // Parameters

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Class<?> type = parameter.getParameter().getType();
        return type == Kernel.class || type == LoadedKext.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        TestKernel test = context.getStore(NAMESPACE).get(TestKernel.class, TestKernel.class);
        if (test == null || !(parameter.getDeclaringExecutable() instanceof Method)) {
            throw new ParameterResolutionException("No kernel for " + parameter.getDeclaringExecutable()
                    + ": a kernel lives for one test, so take it as a parameter of a test, @BeforeEach or "
                    + "@AfterEach method, not of a constructor or a @BeforeAll/@AfterAll method");
        }
        if (parameter.getParameter().getType() == Kernel.class) {
            return test.kernel();
        }
        LoadKext load = parameter.findAnnotation(LoadKext.class).orElseThrow(() -> new ParameterResolutionException(
                "Parameter " + parameter.getParameter() + " of " + parameter.getDeclaringExecutable()
                        + " is a LoadedKext without @LoadKext: annotate it with @LoadKext(YourKext.class) "
                        + "to say which kext to load"));
        return test.kernel().kextload(load.value(), LoadOptions.defaults());
    }

    // ---------------------------------------------------------------------------------------------
    // Panics during the test

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        TestKernel test = context.getStore(NAMESPACE).get(TestKernel.class, TestKernel.class);
        // A panic while resolving @LoadKext arrives wrapped in a ParameterResolutionException.
        if (test != null && test.expectPanic() != null && causeChainHasPanic(throwable)) {
            return; // the expected outcome; afterEach checks the panic string against the kernel's panic
        }
        if (throwable instanceof ParameterResolutionException
                && (throwable.getCause() instanceof KextVerdictError || throwable.getCause() instanceof KernelPanic)) {
            // @LoadKext's kext panicked, or leaked as its start failed: that verdict is the test's failure.
            throw throwable.getCause();
        }
        throw throwable;
    }

    private static boolean causeChainHasPanic(Throwable throwable) {
        for (Throwable t = throwable; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof KernelPanic) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------
    // Unload and judge

    @Override
    public void afterEach(ExtensionContext context) {
        TestKernel test = context.getStore(NAMESPACE).get(TestKernel.class, TestKernel.class);
        if (test == null) {
            return; // beforeEach failed; JUnit reports that
        }
        Kernel kernel = test.kernel();
        List<Throwable> failures = new ArrayList<>();
        boolean panickedInTest = kernel.panicked();
        List<LeakReport> acceptedBySuppressions = new ArrayList<>();
        Map<String, LeakReport> reports = panickedInTest ? Map.of() : unloadAll(kernel, failures, acceptedBySuppressions);
        reports.values().forEach(report -> publish(context, report));
        acceptedBySuppressions.forEach(report -> context.publishReportEntry(SUPPRESSED_ENTRY, report.render()));

        if (test.faultRun() != null) {
            test.faultRun().judge(kernel.faults(), context, failures);
        }
        if (!test.expectLeaks().isEmpty() || !test.expectFindings().isEmpty()) {
            judgeExpectations(test.expectLeaks(), test.expectFindings(), reports, failures);
        }

        KernelPanic panic = kernel.panic();
        if (panic != null) {
            context.publishReportEntry(PANIC_ENTRY, panic.panicLog());
            publishFile(context, "Kernel-" + PANIC_FILE.format(LocalDateTime.now()) + ".panic",
                    MediaType.TEXT_PLAIN_UTF_8, panic.panicLog());
        }
        if (test.expectPanic() != null) {
            judgeExpectedPanic(test.expectPanic(), panic, failures);
        } else if (panic != null && !panickedInTest) {
            // A panic in teardown (LeakPolicy.PANIC). One during the test is the test's to report, or to
            // have asserted, as assertThatPanics does.
            failures.add(panic);
        }

        if (failures.isEmpty()) {
            return;
        }
        Throwable testFailure = context.getExecutionException().orElse(null);
        Throwable primary = test.faultRun() == null ? failures.get(0)
                : test.faultRun().explain(failures.get(0), kernel.faults());
        failures.subList(1, failures.size()).forEach(primary::addSuppressed);
        if (testFailure != null) {
            testFailure.addSuppressed(primary); // the test's own failure says most; the leak comes with it
            return;
        }
        // Every failure collected is an AssertionError, a KernelPanic or an unchecked exception.
        if (primary instanceof Error error) {
            throw error;
        }
        throw (RuntimeException) primary;
    }

    /**
     * Unloads every loaded kext, dependents first, and goes on past a leaking one so that each
     * kext is judged. Returns the leak reports that are not clean, by bundle id.
     */
    private static Map<String, LeakReport> unloadAll(Kernel kernel, List<Throwable> failures,
                                                     List<LeakReport> acceptedBySuppressions) {
        Map<String, LeakReport> reports = new LinkedHashMap<>();
        List<LoadedKext> loaded = new ArrayList<>(kernel.loadedKexts());
        for (int i = loaded.size() - 1; i >= 0 && !kernel.panicked(); i--) {
            LoadedKext kext = loaded.get(i);
            if (!kext.isLoaded()) {
                continue;
            }
            try {
                kernel.kextunload(kext);
            } catch (KextVerdictError verdict) {
                failures.add(verdict);
            } catch (KernelPanic panic) {
                break; // the kernel is dead; afterEach reports the panic
            } catch (RuntimeException | AssertionError e) {
                failures.add(e); // a stop routine that failed, say: the kext stays loaded
            }
            LeakReport report = kernel.leakReport(kext);
            if (report != null && !report.isClean()) {
                reports.put(report.bundleId(), report);
            } else if (report != null && !report.suppressed().isEmpty()) {
                acceptedBySuppressions.add(report);
            }
        }
        if (!kernel.panicked()) {
            // Kexts the test unloaded itself: whatever of theirs is still live is a leak too.
            Set<String> stillLoaded = new HashSet<>();
            kernel.loadedKexts().forEach(kext -> stillLoaded.add(kext.bundleId()));
            LedgerSnapshot live = kernel.snapshot();
            for (LedgerSnapshot.Group group : live.groups()) {
                int tag = group.site().loadTag();
                String id = group.site().bundleId();
                if (tag != 0 && !reports.containsKey(id) && !stillLoaded.contains(id)) {
                    LeakReport late = kernel.suppressions().apply(
                            new LeakReport(id, live.kext(tag), kernel.ledger().findingsOfKext(tag)));
                    if (!late.isClean()) {
                        reports.put(id, late);
                    }
                }
            }
        }
        return reports;
    }

    /**
     * Each expectation must find its count among what the kexts left behind; whatever no expectation
     * selects fails the test as an ordinary leak or finding would. Without any {@link ExpectFinding},
     * an {@link ExpectLeak} naming a kext accepts its findings and held rights too.
     */
    private static void judgeExpectations(List<LeakExpectation> leaks, List<FindingExpectation> findings,
                                          Map<String, LeakReport> reports, List<Throwable> failures) {
        for (LeakReport report : reports.values()) {
            String id = report.bundleId();
            boolean leakExpected = leaks.stream().anyMatch(e -> e.names(id));
            LedgerSnapshot unexpected = report.outstanding()
                    .filter(g -> leaks.stream().noneMatch(e -> e.selects(g.site())));
            List<Finding> unexpectedFindings = findings.isEmpty() && leakExpected ? List.of()
                    : report.findings().stream().filter(f -> findings.stream().noneMatch(e -> e.selects(id, f))).toList();
            List<HeldPortRight> unexpectedRights = leakExpected ? List.of() : report.heldRights();
            LeakReport rest = new LeakReport(id, unexpected, unexpectedFindings, unexpectedRights, report.suppressed());
            if (!rest.isClean()) {
                // The kernel was silent for the expectations' sake; this part of the verdict is still a failure.
                failures.add(KextVerdictError.of(rest));
            }
        }
        for (LeakExpectation expectation : leaks) {
            long found = reports.values().stream().mapToLong(r -> expectation.select(r.outstanding()).count()).sum();
            String mismatch = expectation.mismatch(found, reports.values());
            if (mismatch != null) {
                failures.add(new AssertionError(mismatch));
            }
        }
        for (FindingExpectation expectation : findings) {
            String mismatch = expectation.mismatch(reports.values());
            if (mismatch != null) {
                failures.add(new AssertionError(mismatch));
            }
        }
    }

    private static void judgeExpectedPanic(ExpectPanic expected, KernelPanic panic, List<Throwable> failures) {
        String text = expected.contains();
        String annotation = text.isEmpty() ? "@ExpectPanic" : "@ExpectPanic(contains = \"" + text + "\")";
        if (panic == null) {
            failures.add(new AssertionError(annotation + ": expected the kernel to panic, but it did not"));
        } else if (!panic.panicString().contains(text)) {
            failures.add(new AssertionError(annotation + ": the kernel panicked, but the panic string does not "
                    + "contain the expected text; it was:\n  " + panic.panicString().strip(), panic));
        }
    }

    private static void publish(ExtensionContext context, LeakReport report) {
        context.publishReportEntry(LEAK_ENTRY, report.render());
        context.publishReportEntry(LEAK_JSON_ENTRY, report.toJson());
        publishFile(context, report.bundleId() + "-leak.txt", MediaType.TEXT_PLAIN_UTF_8, report.render());
        publishFile(context, report.bundleId() + "-leak.json", MediaType.APPLICATION_JSON, report.toJson());
    }

    /**
     * The file beside the report entry that carries the same text. A run that takes no files
     * (EngineTestKit without an output directory, an output directory it cannot write) still has
     * the entry, so the verdict stands and another entry says why the file is missing.
     */
    private static void publishFile(ExtensionContext context, String name, MediaType type, String content) {
        try {
            context.publishFile(name, type, path -> Files.writeString(path, content, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            context.publishReportEntry(FILE_NOT_PUBLISHED_ENTRY, name + ": " + e);
        }
    }

    static String bundleId(Class<?> kextClass) {
        KextBundle bundle = kextClass.getAnnotation(KextBundle.class);
        if (bundle == null) {
            throw new ExtensionConfigurationException(kextClass.getName() + " has no @KextBundle: a kext needs "
                    + "@KextBundle(id = \"...\") to be loaded or named in @ExpectLeak");
        }
        return bundle.id();
    }

    // ---------------------------------------------------------------------------------------------

    /** Settings for a programmatically registered extension; they beat annotations and configuration. */
    public static final class Builder {
        private LeakPolicy leakPolicy;
        private Long physicalMemory;
        private Boolean findings;
        private String suppressions;

        private Builder() {
        }

        /** A suppressions file of leaks and findings to accept: a path, or a resource on the test class path. */
        public Builder suppressions(String file) {
            this.suppressions = Objects.requireNonNull(file, "file");
            return this;
        }

        public Builder leakPolicy(LeakPolicy policy) {
            this.leakPolicy = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /** Simulated physical memory in bytes (at least 256 MiB). */
        public Builder physicalMemory(long bytes) {
            this.physicalMemory = HarnessSettings.parsePhysicalMemory("physicalMemory", Long.toString(bytes));
            return this;
        }

        /** Simulated physical memory as a size such as {@code "8G"} or {@code "512M"}. */
        public Builder physicalMemory(String size) {
            this.physicalMemory = HarnessSettings.parsePhysicalMemory("physicalMemory", size);
            return this;
        }

        public Builder findings(boolean enabled) {
            this.findings = enabled;
            return this;
        }

        public KextHarnessExtension build() {
            return new KextHarnessExtension(new HarnessSettings(leakPolicy, physicalMemory, findings, suppressions));
        }
    }
}
