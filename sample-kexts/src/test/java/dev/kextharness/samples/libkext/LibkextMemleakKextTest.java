package dev.kextharness.samples.libkext;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.samples.CallSites;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static dev.kextharness.samples.SourceLines.lineOf;
import static org.assertj.core.api.Assertions.assertThat;

@KextTest(leakPolicy = LeakPolicy.PANIC)
class LibkextMemleakKextTest {
    private static final String PANIC_CALL = "panic(\"\\n%s#L%d (potential memleak)";

    @Test
    void theFailedIntMaxAllocationIsNullAndTheByteIsPoisoned(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LibkextMemleakKext.class);

        List<String> lines = kextLines(kernel);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).isEqualTo("kext-memleak: nil address 0");
        long p = Long.parseUnsignedLong(lines.get(1).replaceAll(".* 0x([0-9a-f]+) .*", "$1"), 16);
        // kalloc.16 is cached on Catalina: the byte is the low byte of zcache_canary ^ p, not 0xef.
        assertThat(lines.get(1)).isEqualTo(String.format("kext-memleak: byte allocated %#x %#x", p,
                (kernel.zalloc().zcacheCanary() ^ p) & 0xff));
        assertThatPanics(() -> kernel.kextunload(kext)).panicStringContains("opt: 2 cnt: 1");
    }

    @Test
    void memckPanicsAtUnloadWithTheArticlesPanicString(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LibkextMemleakKext.class);

        KernelPanic panic = assertThatPanics(() -> kernel.kextunload(kext))
                .hasPanicString("libkext_mref#L" + Libkext.MREF_PANIC_LINE + " (potential memleak)  opt: 2 cnt: 1")
                .actual();

        assertThat(panic.panicString())
                .as("a kext's panic() is printed as given, newlines included")
                .isEqualTo("\nlibkext_mref#L" + Libkext.MREF_PANIC_LINE + " (potential memleak)  opt: 2 cnt: 1\n");
        assertThat(panic.harnessNote()).as("XNU itself panics here: the harness adds nothing").isNull();
        assertThat(kextLines(kernel)).as("stop never reached its last printf").noneMatch(l -> l.contains("leaked!!!"));
    }

    @Test
    void thePanicLineIsTheLineOfThePanicCall(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LibkextMemleakKext.class);
        assertThatPanics(() -> kernel.kextunload(kext));

        CallSite panicSite = CallSites.of(kernel.ledger(), kext.loadTag(), "panic").get(0);
        assertThat(panicSite.location()).isEqualTo("Libkext.libkext_mref(Libkext.java:" + lineOf(Libkext.class, PANIC_CALL) + ")");
        assertThat(Libkext.MREF_PANIC_LINE).as("__LINE__ in Libkext").isEqualTo(panicSite.line());
    }

    @Test
    void thePanicLogHasXnusLayoutWithTheKextInTheBacktrace(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LibkextMemleakKext.class);

        String log = assertThatPanics(() -> kernel.kextunload(kext)).actual().panicLog();
        List<String> lines = log.lines().toList();

        assertThat(lines.get(0)).matches("panic\\(cpu 0 caller 0xffffff7f[0-9a-f]{8}\\): ");
        assertThat(lines.get(1)).isEqualTo("libkext_mref#L" + Libkext.MREF_PANIC_LINE + " (potential memleak)  opt: 2 cnt: 1");
        assertThat(lines.get(2)).isEmpty();
        assertThat(lines.get(3)).isEqualTo("Backtrace (CPU 0), Frame : Return Address");
        assertThat(lines).contains(
                "      Kernel Extensions in backtrace:",
                String.format("         cn.junkman.kext-memleak(1.0)[%s]@%#x->%#x",
                        kext.uuid(), kext.address(), kext.address() + kext.size() - 1),
                "BSD process name corresponding to current thread: kextunload",
                "Kernel UUID: " + Kernel.KERNEL_UUID,
                "loaded kexts:",
                "cn.junkman.kext-memleak\t1.0");
        assertThat(lines).anyMatch(l -> l.startsWith("last loaded kext at ") && l.contains("cn.junkman.kext-memleak\t1.0"));
    }

    @Test
    void theLedgerAtThePanicHoldsTheForgottenByteFromLibkextMalloc(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LibkextMemleakKext.class);

        KernelPanic panic = assertThatPanics(() -> kernel.kextunload(kext)).actual();

        LedgerSnapshot held = panic.ledger().kext(kext.loadTag());
        assertThat(held.count()).isEqualTo(1);
        LedgerSnapshot.Group group = held.groups().get(0);
        assertThat(group.site().function()).isEqualTo("_MALLOC");
        assertThat(group.site().location()).isEqualTo(
                "Libkext.libkext_malloc(Libkext.java:" + lineOf(Libkext.class, "long addr = _MALLOC(") + ")");
        assertThat(group.requestedBytes()).isEqualTo(1);
        assertThat(group.zone()).isEqualTo("kalloc.16");
    }

    @Test
    void balancedTwinPassesMemckAndUnloadsClean(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedLibkextKext.class);
        kernel.kextunload(kext);

        assertThat(kernel).hasNoLeaks();
        assertThat(kernel.panicked()).isFalse();
        assertThat(kextLines(kernel)).startsWith("kext-memleak: nil address 0");
    }

    private static List<String> kextLines(Kernel kernel) {
        return kernel.log().lines().stream().map(line -> line.text())
                .filter(text -> text.startsWith("kext-memleak: ")).toList();
    }
}
