package dev.kextharness.kpi;

/**
 * A kernel extension: the Java spelling of a kext's {@code kmod_info} start and stop routines.
 *
 * <p>The implementing class must carry {@link KextBundle} (its Info.plist) and a public no-argument
 * constructor. The kernel instantiates it in a class loader of its own when it loads the kext;
 * a test never constructs it. Both routines return a {@code kern_return_t}
 * ({@link KernReturn#KERN_SUCCESS} or an error code).
 *
 * <p>Stability: stable.
 */
public interface Kext {

    /** {@code kern_return_t start(kmod_info_t *ki, void *data)}. */
    int start(KmodInfo ki, long data);

    /** {@code kern_return_t stop(kmod_info_t *ki, void *data)}. */
    int stop(KmodInfo ki, long data);
}
