package dev.kextharness.kernel;

import dev.kextharness.kernel.kext.KextFindingError;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.kext.fixtures.CrossFreeKext;
import dev.kextharness.kernel.kext.fixtures.MemleakKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.vm.AddressSpace;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The verdict at unload, end to end through a linked kext, under each leak policy. */
class LeakVerdictTest {

    private static Kernel boot(LeakPolicy policy) {
        return Kernel.boot(KernelConfig.defaults().withLeakPolicy(policy));
    }

    @Test
    void memleakKextLogsTheArticlesLinesAndFailsWithTheExactReport() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        LoadedKext kext = kernel.kextload(MemleakKext.class);
        long p = kernel.snapshot().kext("cn.junkman.kext-memleak").groups().get(0).addresses().get(0);

        assertThatThrownBy(() -> kernel.kextunload(kext))
                .isInstanceOf(KextLeakError.class)
                .hasMessage(String.join("\n",
                        "KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) outstanding at unload",
                        "  1 allocation of 1 byte (16 wired) in kalloc.16, by _MALLOC",
                        "      at MemleakKext.start(MemleakKext.java:21)",
                        String.format("      block 0x%x", p),
                        "      fix: free it with _FREE before stop returns",
                        "  Total: 1 allocation, 1 byte requested, 16 bytes wired, from 1 call site.",
                        ""));
        // Catalina's kalloc.16 is cached: the byte is the low byte of zcache's canary, where the
        // source article's 10.12 kernel, without zcache, printed the poison's 0xef.
        long canaryByte = (kernel.zalloc().zcacheCanary() ^ p) & 0xff;
        assertThat(kernel.log().text())
                .contains(String.format("kext-memleak: byte allocated %#x %#x%n", p, canaryByte))
                .contains(String.format("kext-memleak: byte leaked %#x%n", p));
        assertThat(kext.isLoaded()).isFalse();
    }

    @Test
    void panicPolicyPanicsWithTheKextInTheBacktrace() {
        Kernel kernel = boot(LeakPolicy.PANIC);
        LoadedKext kext = kernel.kextload(MemleakKext.class);

        assertThatThrownBy(() -> kernel.kextunload(kext))
                .isInstanceOfSatisfying(KernelPanic.class, panic -> {
                    assertThat(panic.panicString())
                            .isEqualTo("KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) outstanding at unload");
                    assertThat(panic.panicLog().lines().findFirst()).hasValue(String.format(
                            "panic(cpu 0 caller 0x%x): \"KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) "
                                    + "outstanding at unload\"@kext-harness/dev/kextharness/kernel/Kernel.java:%d",
                            AddressSpace.KERNEL_TEXT_BASE_UNSLID + Kernel.KERNEL_SLIDE + 0x1729eb,
                            lineOf(panic, Kernel.class, "judgeUnload")));
                    assertThat(panic.panicLog())
                            .contains("Kernel Extensions in backtrace:")
                            .contains("cn.junkman.kext-memleak(1.0)[" + kext.uuid() + "]@")
                            .contains("BSD process name corresponding to current thread: kextunload");
                    assertThat(panic.harnessNote()).contains("LeakPolicy.XNU");
                    assertThat(panic.ledger().kext("cn.junkman.kext-memleak").count()).isEqualTo(1);
                });
        assertThatThrownBy(kernel::checkAlive).isInstanceOf(IllegalStateException.class);
    }

    /** The source line of {@code type.method} where the panic was raised (the harness check's line). */
    private static int lineOf(KernelPanic panic, Class<?> type, String method) {
        for (StackTraceElement frame : panic.getStackTrace()) {
            if (frame.getClassName().equals(type.getName()) && frame.getMethodName().equals(method)) {
                return frame.getLineNumber();
            }
        }
        throw new AssertionError(type.getSimpleName() + "." + method + " is not on the panic's stack");
    }

    @Test
    void xnuPolicyUnloadsSilentlyAndTheLeakStaysInItsZone() {
        Kernel kernel = boot(LeakPolicy.XNU);
        long before = kernel.zalloc().zone("kalloc.16").liveCount();
        LoadedKext kext = kernel.kextload(MemleakKext.class);
        kernel.kextunload(kext);

        assertThat(kext.isLoaded()).isFalse();
        assertThat(kernel.zalloc().zone("kalloc.16").liveCount()).isEqualTo(before + 1);
        assertThat(kernel.leakReport(kext).hasLeaks()).isTrue();
        assertThat(kernel.snapshot().kext("cn.junkman.kext-memleak").count()).isEqualTo(1);
    }

    @Test
    void perLoadPolicyOverridesTheKernels() {
        Kernel kernel = boot(LeakPolicy.PANIC);
        LoadedKext kext = kernel.kextload(MemleakKext.class, LoadOptions.defaults().withLeakPolicy(LeakPolicy.XNU));
        kernel.kextunload(kext);
        assertThat(kernel.panicked()).isFalse();
    }

    @Test
    void crossFamilyAndSameBucketSizeFreesAreFindingsThatSayXnuStaysSilent() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        LoadedKext kext = kernel.kextload(CrossFreeKext.class);

        assertThatThrownBy(() -> kernel.kextunload(kext))
                .isInstanceOfSatisfying(KextFindingError.class, e -> {
                    LeakReport report = e.report();
                    assertThat(report.hasLeaks()).isFalse();
                    assertThat(e.sites()).extracting(CallSite::function).contains("kfree", "IOMalloc");
                    assertThat(report.findings()).extracting(Finding::kind)
                            .containsExactly(Finding.Kind.CROSS_FAMILY_FREE, Finding.Kind.SIZE_MISMATCH);
                    assertThat(report.findings().get(0).message())
                            .contains("kfree(").contains("allocated by IOMalloc").contains("free it with IOFree")
                            .contains("Real XNU stays silent");
                    assertThat(report.findings().get(1).message())
                            .contains("kfree(").contains(", 40) frees a 33-byte allocation").contains("kalloc.48");
                    assertThat(report.headline()).startsWith("KEXT FINDINGS: dev.kextharness.test.crossfree");
                });
    }

    @Test
    void findingsOffGivesXnusSilence() {
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.FAIL).withFindings(false));
        kernel.kextunload(kernel.kextload(CrossFreeKext.class));
        assertThat(kernel.ledger().findings()).isEmpty();
    }

    @Test
    void anUntrackedLedgerStillFindsTheLeakByWalkingTheLiveBlocks() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        kernel.ledger().stopCounting();
        LoadedKext kext = kernel.kextload(MemleakKext.class);

        assertThat(kernel.ledger().liveCountOfKext(kext.loadTag())).as("no counting").isZero();
        assertThatThrownBy(() -> kernel.kextunload(kext))
                .isInstanceOf(KextLeakError.class)
                .hasMessageStartingWith("KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) outstanding at unload");
    }

    @Test
    void reportAsJsonCarriesAStableSignaturePerSite() {
        Kernel kernel = boot(LeakPolicy.XNU);
        LoadedKext kext = kernel.kextload(MemleakKext.class);
        kernel.kextunload(kext);
        String json = kernel.leakReport(kext).toJson();
        assertThat(json)
                .contains("\"signature\" : \"cn.junkman.kext-memleak|_MALLOC|dev.kextharness.kernel.kext.fixtures.MemleakKext.start\"")
                .contains("\"line\" : 21")
                .contains("\"zone\" : \"kalloc.16\"");
    }

    @Test
    void twoKernelsInParallelThreadsNeverSeeEachOthersAllocations() throws Exception {
        int threads = 4;
        Thread[] workers = new Thread[threads];
        long[] counts = new long[threads];
        Throwable[] errors = new Throwable[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers[t] = new Thread(() -> {
                try {
                    for (int round = 0; round < 25; round++) {
                        Kernel kernel = boot(LeakPolicy.XNU);
                        for (int i = 0; i <= id; i++) {
                            kernel.kextunload(kernel.kextload(MemleakKext.class));
                        }
                        counts[id] = kernel.snapshot().kext("cn.junkman.kext-memleak").count();
                    }
                } catch (Throwable e) {
                    errors[id] = e;
                }
            });
            workers[t].start();
        }
        for (Thread w : workers) {
            w.join();
        }
        for (int t = 0; t < threads; t++) {
            assertThat(errors[t]).isNull();
            assertThat(counts[t]).isEqualTo(t + 1);
        }
    }
}
