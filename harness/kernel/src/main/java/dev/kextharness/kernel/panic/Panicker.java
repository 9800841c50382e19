package dev.kextharness.kernel.panic;

import dev.kextharness.kernel.ledger.LedgerSnapshot;

/**
 * Raises panics for one kernel and remembers the first: after it, the kernel is dead and every
 * call is refused. The panic is the kernel's state, not only an exception: a kext that catches
 * and drops it leaves the kernel panicked all the same, and its code is stopped at its next
 * preemption point. Panics may be raised on any thread (the watchdog's stop ends on the kext's). Subsystems call it with XNU's exact panic strings; the kernel supplies the
 * rest of the log through {@link Context}.
 */
public final class Panicker {

    /** What the kernel adds to a panic: the rendered log and the ledger at that moment. */
    public interface Context {
        String renderLog(PanicEvent event);

        LedgerSnapshot snapshot();

        /** The kernel has just panicked: no kext code may run on (the watchdog stops it where it is). */
        default void panicked(KernelPanic panic) {
        }
    }

    /** Source path prefix of xnu-6153.141.1 as Apple's build machines record it. */
    public static final String XNU_SOURCE =
            "/AppleInternal/BuildRoot/Library/Caches/com.apple.xbs/Sources/xnu/xnu-6153.141.1/";

    /**
     * Source path prefix of the harness's own panics (checks stricter than XNU's): clearly not
     * xnu's tree, so a reader of the panic log sees at once that the harness raised it.
     */
    public static final String HARNESS_SOURCE = "kext-harness/";

    private volatile Context context;
    private volatile KernelPanic panic;

    public void attach(Context context) {
        this.context = context;
    }

    /** XNU's own panic: {@code panic(cpu N caller ...): "msg"@file:line}. */
    public KernelPanic kernel(String file, int line, int site, String message) {
        return raise(new PanicEvent(message, true, XNU_SOURCE + file, line, site, false, null));
    }

    /** XNU's own panic, with a note saying what the harness does differently. */
    public KernelPanic kernel(String file, int line, int site, String message, String harnessNote) {
        return raise(new PanicEvent(message, true, XNU_SOURCE + file, line, site, false, harnessNote));
    }

    /** A zone panic that prints the zprint section into the log. */
    public KernelPanic zone(String file, int line, int site, String message) {
        return raise(new PanicEvent(message, true, XNU_SOURCE + file, line, site, true, null));
    }

    /**
     * XNU's own panic where the macro is not in force ({@code #undef panic}, as trap.c has before
     * its kernel-trap panic): the message as formatted, real newlines, no quotes, no location.
     */
    public KernelPanic kernelPlain(int site, String message) {
        return raise(new PanicEvent(message, true, null, 0, site, false, null));
    }

    /** A panic raised by a kext calling the exported {@code panic()}. */
    public KernelPanic kext(int site, String message) {
        return raise(new PanicEvent(message, false, null, 0, site, false, null));
    }

    /**
     * A panic the harness raises where XNU would not (a stricter check), said so in the note. Its
     * {@code @file:line} is where XNU's {@code panic()} macro would put {@code __FILE__:__LINE__}:
     * the harness source line that raised it, under {@link #HARNESS_SOURCE}.
     */
    public KernelPanic harness(int site, String message, String harnessNote) {
        StackWalker.StackFrame raiser = StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().equals(Panicker.class.getName()))
                .findFirst()).orElseThrow();
        return raise(new PanicEvent(message, true, harnessSource(raiser), raiser.getLineNumber(), site, false,
                harnessNote));
    }

    /** The harness source path of a frame: its package as directories, then its file. */
    private static String harnessSource(StackWalker.StackFrame frame) {
        String className = frame.getClassName();
        int dot = className.lastIndexOf('.');
        String directory = dot < 0 ? "" : className.substring(0, dot).replace('.', '/') + "/";
        return HARNESS_SOURCE + directory + (frame.getFileName() != null ? frame.getFileName() : "Unknown");
    }

    /** Builds, remembers and returns the panic; callers {@code throw} it. */
    public KernelPanic raise(PanicEvent event) {
        KernelPanic raised;
        synchronized (this) {
            if (panic != null) {
                return panic;
            }
            String log = context == null ? event.panicString() : context.renderLog(event);
            LedgerSnapshot snapshot = context == null ? null : context.snapshot();
            raised = new KernelPanic(event.panicString(), log, event.harnessNote(), snapshot);
            panic = raised;
        }
        if (context != null) {
            context.panicked(raised);
        }
        return raised;
    }

    public boolean panicked() {
        return panic != null;
    }

    /** The panic this kernel died of, or null. */
    public KernelPanic panic() {
        return panic;
    }

    /** Refuses a call on a dead kernel. */
    public void checkAlive() {
        if (panic != null) {
            throw new IllegalStateException("This kernel has panicked (" + panic.panicString().strip()
                    + ") and refuses further calls. Boot a new kernel for the next test; "
                    + "the panic and its log stay available from Kernel.panic().", panic);
        }
    }
}
