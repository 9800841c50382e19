package dev.kextharness.kernel.kext;

import static dev.kextharness.kernel.kext.KextMessages.describe;
import static dev.kextharness.kernel.kext.KextMessages.duplicateBundleId;
import static dev.kextharness.kernel.kext.KextMessages.failedToLoad;
import static dev.kextharness.kernel.kext.KextMessages.failedToUnload;
import static dev.kextharness.kernel.kext.KextMessages.kernReturn;
import static dev.kextharness.kernel.kext.KextMessages.names;
import static dev.kextharness.kernel.kext.KextMessages.unresolvedSymbols;

import dev.kextharness.kernel.kext.KextLinkException.Unresolved;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.PanicReport.KextEvent;
import dev.kextharness.kernel.report.KextRow;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KpiLibrary;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * OSKext for one kernel: loads, starts, stops and unloads kexts in XNU's order, writing XNU's
 * kernel log messages ({@code libkern/c++/OSKext.cpp}), and keeps the list kextstat and the panic
 * log read. Load tags start at 9 (the kernel is 0, its KPI pseudo-kexts 1 to 8) and are never reused; they are assigned only
 * after a successful link, as XNU does, so a kext that fails to link leaves no trace but its log.
 *
 * <p>A kext's misbehaviour never escapes as anything but XNU's outcome: a start that fails or
 * throws unloads the kext at once without calling stop ({@link KextLoadException}); a stop that
 * fails or throws keeps it loaded ({@link KextUnloadException}). Only a {@link KernelPanic}
 * propagates as is, and whatever the kernel's leak verdict throws after an unload.
 *
 * <p>No lock of the manager is held while kext code runs (static initialisers, constructor, start,
 * stop): another thread can always list, unload or report, and the {@link Watchdog} stops a kext
 * that overruns its limit, or that is unloaded while another thread is still in its code.
 *
 * <p>Stability: stable for {@code load}, {@code unload}, {@code loaded} and {@code kextstatRows}.
 */
public final class KextManager {
    /**
     * The KPI pseudo-kexts of System.kext's PlugIns in xnu-6153, in the order OSKext registers them
     * (load tags 1 to 8): interface kexts whose only content is an export list. Kexts load after them.
     */
    static final List<String> PSEUDO_KEXTS = List.of(KextBundle.KPI_BSD, KextBundle.KPI_DSEP, KextBundle.KPI_IOKIT,
            "com.apple.kpi.kasan", KextBundle.KPI_LIBKERN, KextBundle.KPI_MACH, KextBundle.KPI_PRIVATE,
            KextBundle.KPI_UNSUPPORTED);

    private final KextHost kernel;
    /** Read without the lock by the watchdog when the kernel panics. */
    private final List<LoadedKext> all = new CopyOnWriteArrayList<>();
    private final List<LoadedKext> loaded = new ArrayList<>();
    private int nextLoadTag = PSEUDO_KEXTS.size() + 1;
    private long nextAddress = AddressSpace.KEXT_BASE;
    /** Read by the panic log, maybe on a kext's thread while another holds the lock. */
    private volatile KextEvent lastLoaded;
    private volatile KextEvent lastUnloaded;
    private final Watchdog watchdog;

    public KextManager(KextHost kernel) {
        this.kernel = Objects.requireNonNull(kernel, "kernel");
        this.watchdog = new Watchdog(kernel);
    }

    // ---------------------------------------------------------------------------------------------
    // kextload

    /** Loads, links and starts a kext from the class path. */
    public LoadedKext load(Class<? extends Kext> kextClass) {
        return load(KextSource.of(kextClass), LoadOptions.defaults());
    }

    /** Loads, links and starts a kext from the class path, with options. */
    public LoadedKext load(Class<? extends Kext> kextClass, LoadOptions options) {
        return load(KextSource.of(kextClass), options);
    }

    /** Loads, links and starts a kext from a source (a jar, say). */
    public LoadedKext load(KextSource source) {
        return load(source, LoadOptions.defaults());
    }

    /**
     * Loads, links and starts a kext: resolves its dependencies among the loaded kexts, links it
     * (or fails with every unresolved symbol), assigns its load tag and address, runs its static
     * initialisers and constructor, then its start routine.
     *
     * @return the kext, started; or the kext already loaded under that bundle identifier
     * @throws KextLinkException if it uses symbols the kernel does not export
     * @throws KextLoadException if it is not a valid kext, a dependency is not loaded, or its start failed
     */
    public LoadedKext load(KextSource source, LoadOptions options) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(options, "options");
        kernel.checkAlive();
        int logStart;
        LoadedKext kext;
        synchronized (this) {
            logStart = kernel.log().size();
            int tagBefore = nextLoadTag;
            kext = link(source, options, logStart);
            if (kext.loadTag() < tagBefore) {
                return kext; // already loaded under that bundle identifier
            }
        }
        start(kext, source.parent(), options, logStart);
        log("Kext %s loaded.", kext.bundleId());
        return kext;
    }

    /** The kext linked and placed, or the one already loaded under its bundle identifier. */
    private LoadedKext link(KextSource source, LoadOptions options, int logStart) {
        KextImage image = KextLinker.link(source);
        if (image.invalid != null) {
            // kextload's own validation: the kernel never sees such a bundle.
            String id = image.bundle != null && image.bundle.id() != null && !image.bundle.id().isBlank()
                    ? image.bundle.id() : source.kextClassName();
            throw new KextLoadException(id, image.invalidResult, failedToLoad(id, image.invalidResult) + "\n"
                    + source.kextClassName() + " is not a loadable kext: " + image.invalid + ".", List.of(), null);
        }
        String id = image.bundle.id();

        LoadedKext existing = find(id);
        if (existing != null) {
            // OSKext::registerIdentifier refuses the new copy, saying how it differs from the loaded one.
            String version = image.bundle.version();
            boolean sameExecutable = existing.kextClassName().equals(image.kextClassName);
            if (sameExecutable && existing.version().equals(version)) {
                log("Refusing new kext %s, v%s: a loaded copy is already present (same version and executable).",
                        id, version);
                return existing; // then "Kext %s is already loaded." (debug level) and success
            }
            String refusal = !existing.version().equals(version)
                    ? String.format(Locale.ROOT, "Refusing new kext %s, v%s: already have loaded v%s.", id, version,
                            existing.version())
                    : String.format(Locale.ROOT, "Refusing new kext %s, v%s: a loaded copy with a different executable "
                            + "UUID is already present.", id, version);
            log(refusal);
            // kextload echoes the kernel's line with the "(kernel) " prefix.
            throw new KextLoadException(id, KextReturn.LOADED_VERSION_DIFFERS,
                    failedToLoad(id, KextReturn.LOADED_VERSION_DIFFERS) + "\n(kernel) " + refusal + "\n"
                            + duplicateBundleId(id, image.kextClassName, version, existing) + logSection(logStart),
                    since(logStart), null);
        }

        // OSBundleLibraries: a KPI library this kernel does not have is a library kext not found.
        List<String> libraries = new ArrayList<>(image.bundle.dependencies());
        libraries.addAll(KpiContract.unknownLibraries(image.bundle.libraries()));
        List<LoadedKext> dependencies = resolveDependencies(id, libraries, logStart);
        if (!image.linked()) {
            throw linkFailed(id, image.unresolved, logStart);
        }

        // Linked: from here the kext has a load tag, an address and a place in the loaded list.
        long size = Math.max(3 * AddressSpace.PAGE_SIZE, AddressSpace.roundPage(image.executableBytes()));
        LoadedKext kext = new LoadedKext(kernel, this, image, nextLoadTag++, nextAddress, size, dependencies, options);
        nextAddress += size;
        all.add(kext);
        loaded.add(kext);
        log("Kext %s executable loaded; %d pages at 0x%s (load tag %d).", id, size / AddressSpace.PAGE_SIZE,
                Long.toHexString(kext.address()), kext.loadTag());
        lastLoaded = event(kext);
        return kext;
    }

    private List<LoadedKext> resolveDependencies(String id, List<String> libraries, int logStart) {
        List<LoadedKext> found = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String library : new LinkedHashSet<>(libraries)) {
            LoadedKext dependency = find(library);
            if (dependency == null) {
                log("Kext %s - library kext %s not found.", id, library);
                missing.add(library);
            } else {
                found.add(dependency);
            }
        }
        if (missing.isEmpty()) {
            return found;
        }
        log("Can't load kext %s - failed to resolve library dependencies.", id);
        logLoadFailure(id, KextReturn.DEPENDENCIES);
        throw new KextLoadException(id, KextReturn.DEPENDENCIES, failedToLoad(id, KextReturn.DEPENDENCIES) + "\n"
                + "Its @KextBundle names " + String.join(", ", missing) + ", which "
                + (missing.size() == 1 ? "is" : "are") + " not loaded in this kernel. A kext links against the kexts "
                + "it depends on, so load them first." + logSection(logStart), since(logStart), null);
    }

    private KextLinkException linkFailed(String id, List<Unresolved> unresolved, int logStart) {
        String kxld = "kxld[" + id + "]: ";
        log(kxld + "The following symbols are unresolved for this kext:");
        Set<String> symbols = new LinkedHashSet<>();
        unresolved.forEach(u -> symbols.add(u.symbol()));
        symbols.forEach(s -> log(kxld + "\t" + s));
        log("Can't load kext %s - link failed.", id);
        log("Failed to load executable for kext %s.", id);
        logLoadFailure(id, KextReturn.LINK_ERROR);

        return new KextLinkException(id, unresolvedSymbols(id, unresolved), unresolved, since(logStart));
    }

    private void start(LoadedKext kext, ClassLoader parent, LoadOptions options, int logStart) {
        String id = kext.bundleId();
        kernel.checkAlive();
        log("Kext %s calling module start function.", id);
        String[] phase = {"static initializer"};
        int result;
        Throwable thrown = null;
        try {
            result = watchdog.call(kext, "start routine", () -> {
                try {
                    // Static initialisers run first, as a kext's C++ constructors run before its start routine.
                    Class<?> type = Class.forName(kext.image().kextClassName, true, kext.newClassLoader(parent));
                    phase[0] = "constructor";
                    Constructor<?> constructor = type.getDeclaredConstructor();
                    constructor.setAccessible(true); // a kext class nested in a test need not be public
                    Kext instance = (Kext) constructor.newInstance();
                    kext.instantiated(instance);
                    phase[0] = "start routine";
                    return instance.start(kext.kmodInfo(), options.data());
                } catch (ReflectiveOperationException e) {
                    throw new StartFailure(e);
                }
            });
        } catch (StartFailure wrapped) {
            Throwable e = wrapped.getCause();
            thrown = e instanceof InvocationTargetException ite ? ite.getCause() : e;
            result = KextReturn.KERN_FAILURE;
        } catch (ExceptionInInitializerError e) {
            thrown = e.getCause() != null ? e.getCause() : e;
            result = KextReturn.KERN_FAILURE;
        } catch (Throwable t) {
            if (t instanceof LinkageError && phase[0].equals("static initializer")) {
                phase[0] = "class definition"; // the JVM refused a class (verify error, loader constraint...)
            }
            thrown = t;
            result = KextReturn.KERN_FAILURE;
        }
        rethrowPanic(thrown);
        if (thrown == null && result == KextReturn.KERN_SUCCESS) {
            kext.started();
            log("Kext %s is now started.", id);
            return;
        }

        log("Kext %s did not start (return code 0x%s).", id, Integer.toHexString(result));
        log("Kext %s start failed (result 0x%s).", id, Integer.toHexString(result));
        logLoadFailure(id, KextReturn.START_STOP_ERROR);
        // XNU removes a kext whose start failed at once, without calling its stop routine.
        synchronized (this) {
            lastUnloaded = event(kext);
            removeExecutable(kext);
        }

        String phaseName = phase[0];
        String why = thrown == null
                ? "Its start routine returned " + kernReturn(result) + "."
                : "Its " + phaseName + " threw " + describe(thrown) + ". A kext's start must return a kern_return_t: "
                + "C has no exceptions, so the harness treats the throw as a start that returned KERN_FAILURE.";
        KextLoadException failure = new KextLoadException(id, KextReturn.START_STOP_ERROR,
                failedToLoad(id, KextReturn.START_STOP_ERROR) + "\n" + why + " XNU unloads a kext whose start fails "
                        + "without calling its stop routine, so whatever it allocated before failing stays allocated; "
                        + "a start that fails must release what it took before returning." + logSection(logStart),
                since(logStart), thrown);
        try {
            kernel.judgeUnload(kext, true);
        } catch (RuntimeException | Error verdict) {
            verdict.addSuppressed(failure); // the leak verdict wins, but says why the kext went away
            throw verdict;
        }
        throw failure;
    }

    // ---------------------------------------------------------------------------------------------
    // kextunload

    /**
     * Stops and unloads a kext, then lets the kernel judge what it left behind.
     *
     * @throws KextUnloadException if other loaded kexts link against it, its stop failed, or it is not loaded
     */
    public void unload(LoadedKext kext) {
        Objects.requireNonNull(kext, "kext");
        if (kext.manager() != this) {
            throw new IllegalArgumentException(kext + " was loaded by another kernel; unload it there");
        }
        KernelPanic abandoned = watchdog.abandon(kext);
        if (abandoned != null) {
            throw abandoned; // another thread was still in the kext's code: stopped, and the kernel panicked
        }
        kernel.checkAlive();
        int logStart;
        synchronized (this) {
            logStart = kernel.log().size();
            checkUnloadable(kext, logStart);
            lastUnloaded = event(kext); // XNU records it before calling stop, whether stop succeeds or not
        }
        if (kext.isStarted()) {
            stop(kext, logStart);
        }
        synchronized (this) {
            removeExecutable(kext);
        }
        kernel.judgeUnload(kext, false);
    }

    private void checkUnloadable(LoadedKext kext, int logStart) {
        String id = kext.bundleId();
        if (!kext.isLoaded()) {
            log("Can't remove kext %s - not found.", id);
            throw new KextUnloadException(id, KextReturn.NOT_FOUND, failedToUnload(id, KextReturn.NOT_FOUND) + "\n"
                    + kext + " is no longer loaded: it was unloaded before, or its start failed.", since(logStart), null);
        }
        List<LoadedKext> dependents = dependents(kext);
        if (!dependents.isEmpty()) {
            log("Can't unload kext %s; outstanding references (linkage or tracking object).", id);
            throw new KextUnloadException(id, KextReturn.IN_USE, failedToUnload(id, KextReturn.IN_USE) + "\n"
                    + "Loaded kexts link against it: " + names(dependents) + ". A kext with dependents cannot unload "
                    + "(kextstat shows its Refs); unload them first.", since(logStart), null);
        }
    }

    /**
     * The end of {@code OSKext::unload} and {@code removeKext}, after stop (or a failed start): the
     * linked executable is unwired and unmapped (x86_64 maps kexts, {@code VM_MAPPED_KEXTS}) and the
     * kext leaves the loaded list and the identifier table. Called with the manager's lock held.
     */
    private void removeExecutable(LoadedKext kext) {
        String id = kext.bundleId();
        log("Kext %s unloading.", id);
        loaded.remove(kext);
        kext.unloaded();
        log("Kext %s unwiring and unmapping linked executable.", id);
        log("Kext %s unloaded.", id);
        log("Removing kext %s.", id);
    }

    private void stop(LoadedKext kext, int logStart) {
        String id = kext.bundleId();
        kernel.checkAlive();
        log("Kext %s calling module stop function.", id);
        int result;
        Throwable thrown = null;
        try {
            result = watchdog.call(kext, "stop routine", () -> kext.instance().stop(kext.kmodInfo(), kext.options().data()));
        } catch (Throwable t) {
            thrown = t;
            result = KextReturn.KERN_FAILURE;
        }
        rethrowPanic(thrown);
        if (thrown == null && result == KextReturn.KERN_SUCCESS) {
            kext.stopped();
            log("Kext %s is now stopped and ready to unload.", id);
            return;
        }
        log("Kext %s did not stop (return code 0x%s).", id, Integer.toHexString(result));
        log("Kext %s can't unload - module stop returned 0x%s.", id, Integer.toHexString(KextReturn.START_STOP_ERROR));
        String why = thrown == null
                ? "Its stop routine returned " + kernReturn(result) + "."
                : "Its stop routine threw " + describe(thrown) + ". A kext's stop must return a kern_return_t: C has no "
                + "exceptions, so the harness treats the throw as a stop that returned KERN_FAILURE.";
        throw new KextUnloadException(id, KextReturn.START_STOP_ERROR, failedToUnload(id, KextReturn.START_STOP_ERROR)
                + "\n" + why + " XNU keeps a kext whose stop fails loaded and started; a stop routine releases what "
                + "start took and returns KERN_SUCCESS." + logSection(logStart), since(logStart), thrown);
    }

    // ---------------------------------------------------------------------------------------------
    // What the rest of the kernel reads

    /** The loaded kexts, in load order. */
    public synchronized List<LoadedKext> loaded() {
        return List.copyOf(loaded);
    }

    /** Every kext ever loaded into this kernel, unloaded ones included, in load order. */
    public List<LoadedKext> all() {
        return List.copyOf(all);
    }

    /** The loaded kext with this bundle identifier. */
    public synchronized Optional<LoadedKext> loaded(String bundleId) {
        return Optional.ofNullable(find(bundleId));
    }

    /**
     * kextstat's rows: the kernel (load tag 0, which kextstat does not print), the KPI pseudo-kexts
     * (tags 1 to 8, size 0: built into the kernel), then each loaded kext, linked against the
     * pseudo-kexts of its libraries and the kexts it depends on.
     */
    public synchronized List<KextRow> kextstatRows() {
        List<KextRow> rows = new ArrayList<>();
        rows.add(kernel.kernelRow(loaded.size()));
        String version = kernel.osrelease();
        for (int i = 0; i < PSEUDO_KEXTS.size(); i++) {
            String id = PSEUDO_KEXTS.get(i);
            KpiLibrary library = KpiLibrary.ofBundleId(id);
            int refs = (int) loaded.stream().filter(k -> k.libraries().contains(library)).count();
            // An interface kext has no executable of its own: OSKext::copyUUID gives it the kernel's UUID.
            rows.add(new KextRow(i + 1, refs, 0, 0, 0, id, version, kernel.kernelRow(0).uuid(), List.of()));
        }
        for (LoadedKext kext : loaded) {
            List<Integer> linkedAgainst = new ArrayList<>();
            kext.libraries().forEach(l -> linkedAgainst.add(pseudoKextTag(l)));
            kext.dependencies().forEach(d -> linkedAgainst.add(d.loadTag()));
            rows.add(new KextRow(kext.loadTag(), refs(kext), kext.address(), kext.size(), kext.size(), kext.bundleId(),
                    kext.version(), kext.uuid(), linkedAgainst));
        }
        return rows;
    }

    /** The load tag of a library's pseudo-kext. */
    static int pseudoKextTag(KpiLibrary library) {
        return PSEUDO_KEXTS.indexOf(library.bundleId()) + 1;
    }

    /** The last kext loaded (linked), for the panic log; null if none was. */
    public KextEvent lastLoaded() {
        return lastLoaded;
    }

    /** The last kext unloaded (or whose unload began), for the panic log; null if none was. */
    public KextEvent lastUnloaded() {
        return lastUnloaded;
    }

    /** The kernel has panicked: every kext's code stops where it stands, whatever it does with the panic. */
    public void panicked() {
        watchdog.panicked(all);
    }

    Watchdog watchdog() {
        return watchdog;
    }

    /**
     * Runs a kernel-to-kext callback (a sysctl handler, ...) of the kext with this load tag under the
     * watchdog, as start, stop and service calls are; the kernel's own callbacks (no such kext) run as they are.
     */
    public <T> T callback(int loadTag, String what, Supplier<T> body) {
        LoadedKext kext = null;
        synchronized (this) {
            for (LoadedKext k : loaded) {
                if (k.loadTag() == loadTag) {
                    kext = k;
                }
            }
        }
        return kext == null ? body.get() : watchdog.call(kext, what, body);
    }

    synchronized int refs(LoadedKext kext) {
        return dependents(kext).size();
    }

    // ---------------------------------------------------------------------------------------------

    private LoadedKext find(String bundleId) {
        for (LoadedKext k : loaded) {
            if (k.bundleId().equals(bundleId)) {
                return k;
            }
        }
        return null;
    }

    private List<LoadedKext> dependents(LoadedKext kext) {
        List<LoadedKext> out = new ArrayList<>();
        for (LoadedKext k : loaded) {
            if (k.dependencies().contains(kext)) {
                out.add(k);
            }
        }
        return out;
    }

    private KextEvent event(LoadedKext kext) {
        return new KextEvent(kernel.uptimeNanos(), kext.bundleId(), kext.version(), kext.address(), kext.size());
    }

    /** A panic raised under the kext (maybe caught by it: the kernel remembers) ends the load or unload. */
    private void rethrowPanic(Throwable thrown) {
        if (thrown instanceof KernelPanic p) {
            throw p;
        }
        KernelPanic panic = kernel.panic();
        if (panic != null) {
            throw panic;
        }
    }

    /** What a start's own reflective failure (constructor, class lookup) travels in through the watchdog. */
    private static final class StartFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StartFailure(ReflectiveOperationException cause) {
            super(cause);
        }
    }

    private void log(String format, Object... args) {
        kernel.log().printf(args.length == 0 ? format : String.format(java.util.Locale.ROOT, format, args));
    }

    private void logLoadFailure(String id, int result) {
        log("Kext %s failed to load (0x%s).", id, Integer.toHexString(result));
        log("Failed to load kext %s (error 0x%s).", id, Integer.toHexString(result));
    }

    private List<String> since(int logStart) {
        return kernel.log().textSince(logStart);
    }

    private String logSection(int logStart) {
        StringBuilder out = new StringBuilder("\nKernel log:");
        for (String line : since(logStart)) {
            out.append("\n  ").append(line);
        }
        return out.toString();
    }
}
