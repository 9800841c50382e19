package dev.kextharness.kernel.kext;

import java.lang.invoke.CallSite;
import java.lang.invoke.ConstantCallSite;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.util.Objects;

/**
 * The preemption points of one loaded kext. The link step ({@link PreemptionPoints}) puts an
 * {@code invokedynamic} at every method entry, loop back-edge and exception handler entry of the
 * kext's code; {@link #bootstrap} binds all of them to this load's one {@link MutableCallSite}.
 * Its target is an empty method while nothing asks for the kext's attention, which the JIT
 * inlines to nothing: a point costs nothing until the harness needs it. Then the target is
 * switched, for every point of the kext at once:
 * <ul>
 *   <li>{@link #stop}: the kext must stop where it is (the watchdog fired, the kernel panicked,
 *       the test ended under it). Every point, handler entries included, throws the kernel's
 *       panic, so no {@code catch (Throwable t)} of the kext can swallow the stop.</li>
 *   <li>{@link #install}: a scheduler hook runs at every point (a deterministic scheduler may
 *       switch threads there).</li>
 * </ul>
 *
 * <p>Stability: internal; public only because linked kext code bootstraps through it.
 */
public final class Preemption {
    /**
     * System property that, set to {@code false} before the first kext is linked in the JVM,
     * links kexts without preemption points (nothing can stop them then). For measuring what
     * the points cost (harness/bench's PreemptionPointsBenchmark) and nothing else.
     */
    public static final String POINTS_PROPERTY = "kextharness.preemptionPoints";

    private static final MethodHandle NOTHING = MethodHandles.empty(MethodType.methodType(void.class));
    private static final MethodHandle STOPPED;
    private static final MethodHandle RUN;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STOPPED = lookup.findVirtual(Preemption.class, "stopped", MethodType.methodType(void.class));
            RUN = lookup.findVirtual(Runnable.class, "run", MethodType.methodType(void.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final MutableCallSite point = new MutableCallSite(NOTHING);
    private final Watchdog watchdog;
    private final LoadedKext kext;
    private volatile Watchdog.Stop stop;
    /** A point has thrown for the stop: it can no longer be taken back. */
    private boolean acted;
    private Runnable hook;

    Preemption(Watchdog watchdog, LoadedKext kext) {
        this.watchdog = watchdog;
        this.kext = kext;
    }

    /**
     * The bootstrap of every preemption point: binds it to the points of the kext that defined the
     * calling class. Code that outlives its kext (a service object kept past kextunload) gets a
     * point that does nothing.
     */
    public static CallSite bootstrap(MethodHandles.Lookup caller, String name, MethodType type) {
        if (caller.lookupClass().getClassLoader() instanceof KextClassLoader loader) {
            LoadedKext kext = loader.kext();
            if (kext != null) {
                return kext.preemption().point;
            }
        }
        return new ConstantCallSite(NOTHING);
    }

    /**
     * Every point of the kext throws from now on: a panic raised for {@code why}, or the kernel's
     * panic if it has one already. The first stop is the one the panic tells.
     */
    void stop(Watchdog.Stop why) {
        synchronized (this) {
            if (stop != null) {
                return;
            }
            stop = Objects.requireNonNull(why);
            retarget(STOPPED.bindTo(this));
        }
    }

    /** Takes back {@code why} if it is still the pending stop and no point has acted on it. */
    void resume(Watchdog.Stop why) {
        synchronized (this) {
            if (why.equals(stop) && !acted) {
                stop = null;
                retarget(hook != null ? RUN.bindTo(hook) : NOTHING);
            }
        }
    }

    /** Why the kext is being stopped, or null if it is not. */
    Watchdog.Stop stopping() {
        return stop;
    }

    /**
     * Runs {@code schedulerHook} at every preemption point of the kext (on the thread that reached
     * the point) until {@link #uninstall}; a stop overrides it. For a deterministic scheduler.
     */
    public void install(Runnable schedulerHook) {
        synchronized (this) {
            hook = Objects.requireNonNull(schedulerHook, "schedulerHook");
            if (stop == null) {
                retarget(RUN.bindTo(schedulerHook));
            }
        }
    }

    /** Removes the scheduler hook: the points cost nothing again (unless the kext is being stopped). */
    public void uninstall() {
        synchronized (this) {
            hook = null;
            if (stop == null) {
                retarget(NOTHING);
            }
        }
    }

    /** The scheduler hook installed, or null. */
    public synchronized Runnable hook() {
        return hook;
    }

    private void retarget(MethodHandle target) {
        point.setTarget(target);
        MutableCallSite.syncAll(new MutableCallSite[]{point});
    }

    /** What a point does once the kext is stopped: the kext's thread raises or rethrows the panic. */
    private void stopped() {
        Watchdog.Stop why;
        synchronized (this) {
            why = stop;
            if (why == null) {
                return; // resumed between the switch and this point
            }
            acted = true;
        }
        throw watchdog.stopped(kext, why);
    }
}
