package dev.kextharness.kernel.panic;

import dev.kextharness.kernel.ledger.LedgerSnapshot;

/**
 * The simulated kernel panicked. A test can catch it and go on: the JVM is fine, only that kernel
 * is dead (it refuses every further call). It is an {@link Error}, not an exception, because a
 * kext must not catch and continue; the kernel remembers the panic even if one does.
 */
@org.apiguardian.api.API(status = org.apiguardian.api.API.Status.STABLE, since = "0.1")
public final class KernelPanic extends Error {
    private static final long serialVersionUID = 1L;

    private final String panicString;
    private final String panicLog;
    private final String harnessNote;
    private final transient LedgerSnapshot ledger;

    public KernelPanic(String panicString, String panicLog, String harnessNote, LedgerSnapshot ledger) {
        super(message(panicString, harnessNote), null, true, true);
        this.panicString = panicString;
        this.panicLog = panicLog;
        this.harnessNote = harnessNote;
        this.ledger = ledger;
    }

    private static String message(String panicString, String harnessNote) {
        String text = "panic: " + panicString.strip();
        return harnessNote == null ? text : text + "\n[harness] " + harnessNote;
    }

    /** The panic string exactly as XNU formats it (what follows {@code panic(cpu N caller ...): }). */
    public String panicString() {
        return panicString;
    }

    /** The whole panic log, in XNU's x86_64 layout. */
    public String panicLog() {
        return panicLog;
    }

    /** Where the harness is stricter than XNU, what XNU would have done instead; otherwise null. */
    public String harnessNote() {
        return harnessNote;
    }

    /** What was live in the kernel when it panicked. */
    public LedgerSnapshot ledger() {
        return ledger;
    }
}
