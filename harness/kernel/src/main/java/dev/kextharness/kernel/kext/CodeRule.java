package dev.kextharness.kernel.kext;

/**
 * Why the link refuses a symbol that kext code uses outside the KPI: the JDK allowlist
 * ({@link JdkAllowlist}), the harness's own libraries, and the types a kext shares with its test.
 * The tag shows on each unresolved line, the explanation once below them (and in {@code KextRules}).
 */
enum CodeRule {
    NOT_ALLOWLISTED("not on the JDK allowlist", "kext code may use only the JDK classes and members on the kext "
            + "allowlist (java.lang basics, collections, functional interfaces, streams run sequentially, atomics, "
            + "java.math, string formatting; see src/docs/kext-code.md): the rest can reach past the kernel. "
            + "Use an allowlisted equivalent or the KPI."),
    IO("I/O", "files, sockets, class path resources and the rest of java.io/java.nio/java.net reach outside the "
            + "simulated kernel. A kext's world is the KPI: memory, ports, sysctl."),
    CONSOLE("console", "System.out, System.err, System.in and printStackTrace write to the JVM's console, shared by "
            + "every kernel. A kext prints with printf (dev.kextharness.kpi.Systm), into its kernel's log."),
    THREAD("thread", "threads belong to the kernel: a kext must not start or block them itself (Thread, executors, "
            + "fork/join, CompletableFuture, timers, parallel streams, ConcurrentHashMap's parallel bulk operations, "
            + "Object.wait/notify, finalizers, locks). Its work stays on the kernel's threads and in its ledger."),
    REFLECTION("reflection", "reflection, method handles, java.beans, class loading, Unsafe and the JDK's internals "
            + "would let a kext reach past the KPI into the kernel (its ledger, its loader). Call the KPI directly."),
    JVM_GLOBAL("JVM-wide", "System.exit/halt, system properties and environment, Runtime, processes, JMX and JVM-wide "
            + "defaults act on the whole JVM, which hosts many kernels at once. A kext reports failure through its "
            + "kern_return_t."),
    HARNESS("harness library", "the harness's own libraries (Byte Buddy, Jackson, JUnit, AssertJ, ArchUnit, picocli, "
            + "SLF4J, ...) are the kernel's code, not the kext's, as XNU's internals are: a kext cannot link against "
            + "them. Use the KPI function that does the job."),
    SHARED_STATE("shared state", "a type the kext shares with its test (a public interface on the test's class path, "
            + "and the types its signatures name) is loaded once by the test's class loader, so its static fields "
            + "outlive every load and every kernel. It may hold only compile-time constants (static final "
            + "primitives and Strings); keep other state in the kext's own classes, which get fresh statics per load."),
    SHARED_CODE("shared code", "code of a type the kext shares with its test runs in the test's class loader, not "
            + "the kext's: it is not linked (a KPI call there has no kext to bind to) and a class it names is the "
            + "test's copy, not the kext's; nor does it get preemption points, so a loop there could not be stopped by "
            + "the watchdog. A shared type may use only other shared types, the KPI's types and the JDK allowlist, "
            + "and may not loop; move the work into a class of the kext.");

    final String tag;
    final String explanation;

    CodeRule(String tag, String explanation) {
        this.tag = tag;
        this.explanation = explanation;
    }

    /** The rules as the docs page lists them: tag, then explanation. */
    static String markdown() {
        StringBuilder out = new StringBuilder();
        for (CodeRule r : values()) {
            out.append("- `[").append(r.tag).append("]` ").append(r.explanation).append('\n');
        }
        return out.toString();
    }

    static CodeRule byTag(String tag) {
        for (CodeRule r : values()) {
            if (r.tag.equals(tag)) {
                return r;
            }
        }
        return null;
    }
}
