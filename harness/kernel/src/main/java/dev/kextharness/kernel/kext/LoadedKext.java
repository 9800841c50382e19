package dev.kextharness.kernel.kext;

import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KpiLibrary;
import dev.kextharness.kpi.KmodInfo;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * A kext loaded into one kernel: its identity ({@code kmod_info}), where its executable sits, the
 * kexts it links against, and its state. The kext's instance lives in a class loader of its own,
 * so a test reaches it only through an interface it implements: {@link #service(Class)}.
 *
 * <p>Stability: stable.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public final class LoadedKext {

    /** Where a kext is in its life: linked, started, or unloaded (for good: tags are never reused). */
    public enum State { LOADED, STARTED, UNLOADED }

    private final KextHost kernel;
    private final KextManager manager;
    private final KextImage image;
    private final String bundleId;
    private final String version;
    private final int loadTag;
    private final String uuid;
    private final long address;
    private final long size;
    private final List<LoadedKext> dependencies;
    private final LoadOptions options;
    private final KmodInfo kmodInfo;
    /** The kext's implementation of each KPI header, indexed as the contract orders them. */
    private final KextKpi[] kpi;

    private volatile State state = State.LOADED;
    private volatile Kext instance;
    private KextClassLoader classLoader;
    /** The kext's bound KPI call sites, switched to {@link KextLinker#afterUnload} when it unloads. */
    private final List<KextLinker.Binding> bindings = new ArrayList<>();

    LoadedKext(KextHost kernel, KextManager manager, KextImage image, int loadTag, long address, long size,
               List<LoadedKext> dependencies, LoadOptions options) {
        this.kernel = kernel;
        this.manager = manager;
        this.image = image;
        this.bundleId = image.bundle.id();
        this.version = image.bundle.version();
        this.loadTag = loadTag;
        this.uuid = uuidOf(bundleId, version);
        this.address = address;
        this.size = size;
        this.dependencies = List.copyOf(dependencies);
        this.options = options;
        this.kmodInfo = new KmodInfo(loadTag, bundleId, version, address, size);
        this.kpi = KpiContract.catalina().implementationsFor(kernel, this);
    }

    /** A name-based UUID of the bundle id and version, printed upper-case as {@code uuid_unparse} does. */
    static String uuidOf(String bundleId, String version) {
        byte[] name = (bundleId + "\t" + version).getBytes(StandardCharsets.UTF_8);
        return UUID.nameUUIDFromBytes(name).toString().toUpperCase(Locale.ROOT);
    }

    /** {@code CFBundleIdentifier}. */
    public String bundleId() {
        return bundleId;
    }

    /** {@code CFBundleVersion}. */
    public String version() {
        return version;
    }

    /** The load tag ({@code kmod_info.id}); the kernel is 0, and tags are never reused. */
    public int loadTag() {
        return loadTag;
    }

    /** The executable's UUID, upper-case. */
    public String uuid() {
        return uuid;
    }

    /** The load address of the kext's executable, in the kext range below the kernel. */
    public long address() {
        return address;
    }

    /** The size of the kext's executable in bytes: whole pages, at least three. */
    public long size() {
        return size;
    }

    /** What the kext's start and stop routines are given. */
    public KmodInfo kmodInfo() {
        return kmodInfo;
    }

    /** The kexts this one links against ({@code OSBundleLibraries}), in declaration order. */
    public List<LoadedKext> dependencies() {
        return dependencies;
    }

    /** The KPI libraries it links against ({@code @KextBundle(libraries)}, the public four by default). */
    public Set<KpiLibrary> libraries() {
        return KpiContract.libraries(image.bundle.libraries());
    }

    /** How many loaded kexts link against this one: kextstat's Refs. Nonzero means it cannot unload. */
    public int refs() {
        return manager.refs(this);
    }

    /** The options it was loaded with; {@code options().leakPolicy()} is null for the kernel's default. */
    public LoadOptions options() {
        return options;
    }

    /** The binary name of the kext class. */
    public String kextClassName() {
        return image.kextClassName;
    }

    public State state() {
        return state;
    }

    /** True until it is unloaded. */
    public boolean isLoaded() {
        return state != State.UNLOADED;
    }

    public boolean isStarted() {
        return state == State.STARTED;
    }

    /**
     * The kext, as an interface it implements: how a test calls into a loaded kext. The kext class
     * itself lives in the kext's own class loader, so only interfaces shared with the caller (those
     * of the caller's class path) can reach it.
     *
     * @throws IllegalArgumentException if {@code iface} is not an interface the kext implements
     * @throws IllegalStateException    if the kext is not started (unloaded, or still starting)
     */
    public <T> T service(Class<T> iface) {
        Objects.requireNonNull(iface, "iface");
        Kext kext = instance;
        if (kext == null || state != State.STARTED) {
            throw new IllegalStateException("kext " + bundleId + " (load tag " + loadTag + ") is " + describeState()
                    + "; its services are reachable only while it is started");
        }
        if (!iface.isInterface()) {
            throw new IllegalArgumentException("service(" + iface.getName() + ".class): " + iface.getName()
                    + " is a class, not an interface. A kext's classes live in a class loader of their own, so a "
                    + "test reaches the kext only through an interface it implements: " + implemented(kext.getClass()));
        }
        if (iface.isInstance(kext)) {
            return iface.cast(kext);
        }
        StringBuilder message = new StringBuilder("kext " + bundleId + " (" + kext.getClass().getName()
                + ") does not implement " + iface.getName() + "; it implements " + implemented(kext.getClass()));
        for (Class<?> i : interfaces(kext.getClass())) {
            if (i.getName().equals(iface.getName())) {
                message.append(". Its ").append(i.getName()).append(" is another class of the same name, from the ")
                        .append(loaderName(i.getClassLoader())).append(" class loader: a kext shares an interface with "
                                + "its caller only if the interface is public and its loader (the kext's parent) can "
                                + "see it; otherwise the kext gets a copy of its own");
            }
        }
        throw new IllegalArgumentException(message.toString());
    }

    private static String loaderName(ClassLoader loader) {
        return loader == null ? "boot" : loader.getName() != null ? loader.getName() : loader.toString();
    }

    private static String implemented(Class<?> type) {
        List<String> names = new ArrayList<>();
        for (Class<?> i : interfaces(type)) {
            names.add(i.getName());
        }
        return names.isEmpty() ? "no interfaces" : String.join(", ", names);
    }

    private static Set<Class<?>> interfaces(Class<?> type) {
        Set<Class<?>> out = new LinkedHashSet<>();
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            collect(c.getInterfaces(), out);
        }
        return out;
    }

    private static void collect(Class<?>[] interfaces, Set<Class<?>> out) {
        for (Class<?> i : interfaces) {
            if (out.add(i)) {
                collect(i.getInterfaces(), out);
            }
        }
    }

    private String describeState() {
        return switch (state) {
            case LOADED -> "loaded but not started";
            case STARTED -> "started";
            case UNLOADED -> "unloaded";
        };
    }

    @Override
    public String toString() {
        return bundleId + " (" + version + ", load tag " + loadTag + ", " + state.name().toLowerCase(Locale.ROOT) + ")";
    }

    // ---------------------------------------------------------------------------------------------
    // For the kext manager and the linker

    KextHost kernel() {
        return kernel;
    }

    KextKpi[] kpi() {
        return kpi;
    }

    KextImage image() {
        return image;
    }

    KextManager manager() {
        return manager;
    }

    Kext instance() {
        return instance;
    }

    /** The kext's instance, made by its constructor before start runs. */
    void instantiated(Kext kext) {
        this.instance = kext;
    }

    void started() {
        this.state = State.STARTED;
    }

    void stopped() {
        this.state = State.LOADED;
    }

    /** The class loader that defines this load's classes (a fresh one per load). */
    KextClassLoader newClassLoader(ClassLoader parent) {
        classLoader = new KextClassLoader(image, parent, this);
        return classLoader;
    }

    /** Records a bound KPI call site; false if the kext has unloaded meanwhile. */
    synchronized boolean bound(KextLinker.Binding binding) {
        if (state == State.UNLOADED) {
            return false;
        }
        bindings.add(binding);
        return true;
    }

    /**
     * Unloaded for good: the instance is dropped, and every KPI call site of the kext's classes is
     * switched to an error, so that code kept past the unload (a service object a test still holds)
     * fails clearly instead of allocating, and no longer holds the kernel: the classes and the
     * kernel can be collected separately.
     */
    synchronized void unloaded() {
        this.state = State.UNLOADED;
        this.instance = null;
        KextLinker.unbind(this, bindings);
        bindings.clear();
        if (classLoader != null) {
            classLoader.detach();
            classLoader = null;
        }
    }
}
