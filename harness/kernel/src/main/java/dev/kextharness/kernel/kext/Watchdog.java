package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.panic.KernelPanic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Watches the calls of one kernel into kext code (start and stop routines, service calls) and
 * stops a kext where it stands, at its next preemption point ({@link Preemption}):
 * <ul>
 *   <li>when a call overruns the kernel's watchdog limit ({@code KernelConfig.watchdog()});</li>
 *   <li>when the kernel panics: a panicked kernel runs no more kext code, whatever the kext does
 *       with the exception;</li>
 *   <li>when the kext is unloaded while another thread is still in its code (JUnit's
 *       {@code @Timeout} gave up on the test's thread and the extension unloads).</li>
 * </ul>
 * The stop ends as a panic raised on the kext's own thread, so the panic's stack and its message
 * show the kext's frames (file:line) at the moment it was stopped. XNU has no such watchdog: a
 * start routine that never returns leaves kextload waiting for ever. The harness is stricter, and
 * its panic says so.
 */
final class Watchdog {
    /** How long an unload waits for a thread stopped in kext code to leave it. */
    private static final Duration LEAVE_GRACE = Duration.ofSeconds(5);

    /** How often the sweeper looks for overruns: an overrun is caught within the limit plus this. */
    private static final long TICK_MILLIS = 10;
    /** Every watched call of every kernel of the JVM that has a limit; the sweeper reads it. */
    private static final Set<Call> WATCHED = ConcurrentHashMap.newKeySet();
    /**
     * One daemon thread for every kernel of the JVM, sweeping {@link #WATCHED} at a fixed rate: it
     * only flips an overrunning kext's preemption points. A sweep instead of a timer task per call
     * keeps a watched call to a set insert and remove (no timer-queue lock, no wake-up per call).
     */
    private static final ScheduledThreadPoolExecutor TIMER = timer();

    private final KextHost kernel;
    private final Set<Call> active = ConcurrentHashMap.newKeySet();

    Watchdog(KextHost kernel) {
        this.kernel = kernel;
    }

    private static ScheduledThreadPoolExecutor timer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "kext-harness watchdog");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(Watchdog::sweep, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
        return timer;
    }

    /** Why a kext is being stopped; the first reason is the one its panic tells. */
    record Stop(Reason reason, Call call) {
    }

    enum Reason { OVERRAN, PANICKED, ABANDONED }

    /** A call in progress from the harness or a test into a kext's code. */
    static final class Call {
        final LoadedKext kext;
        /** What was called, as the panic says it: "start routine", "service call Foo.bar". */
        final String what;
        final Thread thread = Thread.currentThread();
        final long startNanos = System.nanoTime();
        final CountDownLatch done = new CountDownLatch(1);
        /** {@code System.nanoTime()} past which the call has overrun (meaningful only while watched). */
        long deadline;
        /** Set (under the call's lock) when the call returns: the sweeper stops no finished call. */
        boolean finished;

        Call(LoadedKext kext, String what) {
            this.kext = kext;
            this.what = what;
        }
    }

    /** Runs kext code ({@code body}) as a watched call of {@code kext}: {@code what} names it in the panic. */
    <T> T call(LoadedKext kext, String what, Supplier<T> body) {
        Call call = new Call(kext, what);
        active.add(call);
        long limit = kernel.watchdogLimit().toNanos();
        if (limit > 0) {
            call.deadline = call.startNanos + limit;
            WATCHED.add(call);
        }
        try {
            return body.get();
        } finally {
            WATCHED.remove(call);
            synchronized (call) {
                call.finished = true; // a sweep that saw the call before the removal issues no stop now
            }
            active.remove(call);
            // Over the limit, but it returned before reaching a point: it was slow (a long KPI call,
            // a stall of the machine), not stuck. Its kext runs on.
            kext.preemption().resume(new Stop(Reason.OVERRAN, call));
            call.done.countDown();
        }
    }

    /** The sweeper's round: stops the kext of every watched call past its deadline (a repeated stop is a no-op). */
    private static void sweep() {
        long now = System.nanoTime();
        for (Call call : WATCHED) {
            if (now - call.deadline >= 0) {
                synchronized (call) {
                    if (!call.finished) {
                        call.kext.preemption().stop(new Stop(Reason.OVERRAN, call));
                    }
                }
            }
        }
    }

    /** What a stopped kext's preemption point throws, on the kext's thread. */
    KernelPanic stopped(LoadedKext kext, Stop stop) {
        KernelPanic panic = kernel.panic();
        return panic != null ? panic : raise(stop, kextFrames());
    }

    /** The kernel panicked: stop every kext's code where it stands. */
    void panicked(List<LoadedKext> kexts) {
        for (LoadedKext kext : kexts) {
            kext.preemption().stop(new Stop(Reason.PANICKED, null));
        }
    }

    /**
     * A kext is being unloaded while other threads run its code: stop it, wait for them to leave,
     * and return the panic the stop ended in (null if no other thread is in its code).
     */
    KernelPanic abandon(LoadedKext kext) {
        List<Call> others = new ArrayList<>();
        for (Call call : active) {
            if (call.kext == kext && call.thread != Thread.currentThread()) {
                others.add(call);
            }
        }
        if (others.isEmpty()) {
            return null;
        }
        Call first = others.get(0);
        kext.preemption().stop(new Stop(Reason.ABANDONED, first));
        long deadline = System.nanoTime() + LEAVE_GRACE.toNanos();
        for (Call call : others) {
            try {
                if (!call.done.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    // Stuck where no point is (a JDK method that never returns): panic with where it is.
                    return kernel.panic() != null ? kernel.panic() : raise(kext.preemption().stopping(),
                            kextFrames(call.thread.getStackTrace()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return kernel.panic() != null ? kernel.panic() : raise(kext.preemption().stopping(), List.of());
    }

    private KernelPanic raise(Stop stop, List<StackTraceElement> frames) {
        Call call = stop.call();
        LoadedKext kext = call.kext;
        long ran = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - call.startNanos);
        String who = kext.bundleId() + " (load tag " + kext.loadTag() + ")";
        String where = frames.isEmpty() ? "it returned after the limit, before reaching a preemption point"
                : "stopped at " + frame(frames.get(0));
        String message;
        String note;
        if (stop.reason() == Reason.ABANDONED) {
            message = "kext watchdog: " + who + " was unloaded while its " + call.what + " still ran on thread \""
                    + call.thread.getName() + "\" (" + ran + " ms); " + where;
            note = "the test's thread gave up on the call (JUnit's @Timeout, say) and the harness unloaded the kext "
                    + "under it. XNU would unmap the kext's code under the running thread; the harness stops the kext "
                    + "at its next preemption point instead and panics.";
        } else {
            message = "kext watchdog: " + who + " ran its " + call.what + " for " + ran + " ms, over the watchdog "
                    + "limit of " + kernel.watchdogLimit().toMillis() + " ms; " + where;
            note = "XNU has no such watchdog: a kext routine that never returns keeps kextload (or its caller) waiting "
                    + "for ever. The harness stops kext code that overruns the limit at its next loop back-edge or "
                    + "method entry; set the limit with KernelConfig.withWatchdog, --watchdog or the kextharness.watchdog "
                    + "configuration parameter (0 turns it off).";
        }
        StringBuilder stack = new StringBuilder();
        for (StackTraceElement f : frames) {
            stack.append("\n\tat ").append(frame(f));
        }
        int site = frames.isEmpty() ? -1 : site(kext, frames.get(0));
        return kernel.panicker().harness(site, message, note + (frames.isEmpty() ? "" : " The kext's stack:" + stack));
    }

    /** A ledger call site for the frame the kext was stopped at, so the panic log's backtrace names the kext. */
    private int site(LoadedKext kext, StackTraceElement frame) {
        synchronized (kernel.ledger()) {
            return kernel.ledger().register(kext.loadTag(), kext.bundleId(), "watchdog", Family.NONE, frame.getClassName(),
                    frame.getMethodName(), frame.getFileName(), frame.getLineNumber());
        }
    }

    private static String frame(StackTraceElement f) {
        return f.getClassName() + "." + f.getMethodName() + "(" + (f.getFileName() == null ? "Unknown Source"
                : f.getFileName() + (f.getLineNumber() >= 0 ? ":" + f.getLineNumber() : "")) + ")";
    }

    /** The current thread's frames in kext code, innermost first. */
    private static List<StackTraceElement> kextFrames() {
        return StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> frames
                .filter(f -> f.getDeclaringClass().getClassLoader() instanceof KextClassLoader)
                .map(StackWalker.StackFrame::toStackTraceElement)
                .toList());
    }

    /** Another thread's frames in kext code, by the loader name every kext loader carries. */
    private static List<StackTraceElement> kextFrames(StackTraceElement[] stack) {
        List<StackTraceElement> out = new ArrayList<>();
        for (StackTraceElement f : stack) {
            if (f.getClassLoaderName() != null && f.getClassLoaderName().startsWith(KextClassLoader.NAME_PREFIX)) {
                out.add(f);
            }
        }
        return out;
    }
}
