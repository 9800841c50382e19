package dev.kextharness.kernel.kext;

/**
 * The class loader of one loaded kext: it defines the kext's own classes (every class it reaches
 * outside the JDK, the KPI and the harness, whatever its package or jar) from their linked bytes,
 * and delegates the rest (the JDK, the KPI, the types the kext shares with its caller) to the
 * loader of the kext class as given. A new loader per load is what gives
 * each load fresh static state, as a real reload gets a fresh data segment.
 */
final class KextClassLoader extends ClassLoader {
    static {
        registerAsParallelCapable();
    }

    private static final String LINKER = KextLinker.class.getName();
    private static final String PREEMPTION = Preemption.class.getName();
    /** How every kext loader's name starts, so that a stack trace tells kext frames apart. */
    static final String NAME_PREFIX = "kext ";

    private final KextImage image;
    /** The kext while it is loaded; null after unload, so that its classes no longer reach the kernel. */
    private volatile LoadedKext kext;

    KextClassLoader(KextImage image, ClassLoader parent, LoadedKext kext) {
        super(NAME_PREFIX + kext.bundleId() + " (load tag " + kext.loadTag() + ")", parent);
        this.image = image;
        this.kext = kext;
    }

    /** The kext these classes belong to, or null once it has unloaded. */
    LoadedKext kext() {
        return kext;
    }

    /** Called at unload: classes that outlive the kext (a kept service object) must not keep its kernel alive. */
    void detach() {
        kext = null;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                byte[] bytes = image.bytes(name);
                if (bytes != null) {
                    // The kext's classes come first: the parent has its own copies, unlinked.
                    c = defineClass(name, bytes, 0, bytes.length);
                } else if (name.equals(LINKER)) {
                    // Linked call sites bootstrap through this kernel's linker, whatever the parent sees.
                    c = KextLinker.class;
                } else if (name.equals(PREEMPTION)) {
                    c = Preemption.class; // preemption points bootstrap through this kernel's kext package too
                } else {
                    c = super.loadClass(name, false);
                }
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }
}
