package dev.kextharness.samples.wrongsize;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.samples.CallSites;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static dev.kextharness.samples.SourceLines.location;
import static org.assertj.core.api.Assertions.assertThat;

@KextTest(leakPolicy = LeakPolicy.PANIC)
class WrongSizeKfreeTest {
    private static final String STALE_KFREE = "kfree(request, SIZEOF_REQUEST_V1);";

    @Test
    void aSizeInAnotherBucketPanicsWithXnusWrongZoneMessage(Kernel kernel) {
        LoadedKext kext = kernel.kextload(WrongZoneKfreeKext.class);
        long request = allocatedRequest(kernel);

        KernelPanic panic = assertThatPanics(() -> kernel.kextunload(kext))
                .hasPanicString(String.format(
                        "Element %#x from zone kalloc.96 caught being freed to wrong zone kalloc.80", request))
                .actual();

        assertThat(panic.panicString()).endsWith("caught being freed to wrong zone kalloc.80\n");
        assertThat(panic.harnessNote()).as("XNU panics here itself; the harness adds the allocation and its size")
                .isEqualTo(String.format("the element at %#x is a 88-byte block of kalloc.96 allocated by kalloc at %s; "
                        + "the size passed to the free selects kalloc.80", request,
                        location(WrongZoneKfreeKext.class, "start", "kalloc(")));
        assertThat(panic.panicLog().lines().findFirst().orElseThrow())
                .startsWith("panic(cpu 0 caller 0x")
                .contains("): \"Element " + String.format("%#x", request) + " from zone kalloc.96")
                // xnu's panic() macro: the format stringified (its \n escaped), then zfree's call in zalloc.c.
                .endsWith("wrong zone kalloc.80\\n\"@" + Panicker.XNU_SOURCE + "osfmk/kern/zalloc.c:3961");
        assertThat(panic.panicLog()).contains("dev.kextharness.samples.wrongsize(1.0)");
    }

    @Test
    void theWrongZonePanicIsRaisedAtTheStaleKfree(Kernel kernel) {
        LoadedKext kext = kernel.kextload(WrongZoneKfreeKext.class);

        KernelPanic panic = assertThatPanics(() -> kernel.kextunload(kext)).actual();

        // The element is still live in the ledger at the panic, allocated in start; the log names the free.
        var held = panic.ledger().kext(kext.loadTag()).groups();
        assertThat(held).singleElement().satisfies(g -> {
            assertThat(g.zone()).isEqualTo("kalloc.96");
            assertThat(g.site().location()).isEqualTo(
                    location(WrongZoneKfreeKext.class, "start", "request = kalloc(SIZEOF_REQUEST_V2);"));
        });
        assertThat(lastKextLine(kernel)).endsWith("with 72 bytes");
        assertThat(CallSites.of(kernel.ledger(), kext.loadTag(), "kfree")).singleElement()
                .extracting(CallSite::location).isEqualTo(location(WrongZoneKfreeKext.class, "stop", STALE_KFREE));
        assertThat(kernel.ledger().findings()).as("XNU's own check, no harness finding").isEmpty();
    }

    @Test
    void aSizeInTheSameBucketIsAFindingSayingXnuStaysSilent(Kernel kernel) {
        LoadedKext kext = kernel.kextload(SameBucketKfreeKext.class);
        long request = allocatedRequest(kernel);

        String note = assertThatPanics(() -> kernel.kextunload(kext))
                .hasPanicString("KEXT FINDINGS: dev.kextharness.samples.wrongsize.samebucket: 1 finding at unload")
                .actual().harnessNote();

        assertThat(note).contains(String.format("SIZE_MISMATCH: kfree(%#x, 72) frees a 76-byte allocation made by "
                + "kalloc at %s. Real XNU accepts it silently (both sizes fall in kalloc.80), but the size must be "
                + "the one allocated.", request,
                location(SameBucketKfreeKext.class, "start", "request = kalloc(SIZEOF_REQUEST_V2);")));
        assertThat(note).contains("at " + location(SameBucketKfreeKext.class, "stop", STALE_KFREE));
    }

    @Test
    @KextTest(leakPolicy = LeakPolicy.XNU)
    void underXnusPolicyTheSameBucketFreeLeaksNothingAndLeavesOnlyTheFinding(Kernel kernel) {
        LoadedKext kext = kernel.kextload(SameBucketKfreeKext.class);
        kernel.kextunload(kext);

        LeakReport report = kernel.leakReport(kext);
        assertThat(report.hasLeaks()).isFalse();
        assertThat(report.findings()).extracting(Finding::kind).containsExactly(Finding.Kind.SIZE_MISMATCH);
        assertThat(kernel.zalloc().zone("kalloc.80").liveCount()).as("the element went back to kalloc.80").isZero();
    }

    @Test
    @KextTest(findings = false)
    void withFindingsOffTheHarnessIsAsSilentAsXnu(Kernel kernel) {
        LoadedKext kext = kernel.kextload(SameBucketKfreeKext.class);
        kernel.kextunload(kext);

        assertThat(kernel.leakReport(kext).isClean()).isTrue();
        assertThat(kernel).hasNoLeaks();
    }

    @Test
    void balancedTwinFreesWithTheSizeItAllocated(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedKfreeKext.class);
        kernel.kextunload(kext);

        assertThat(kernel.leakReport(kext).isClean()).isTrue();
        assertThat(kernel).hasNoLeaks();
    }

    /** The request's address, from the kext's "request allocated" line. */
    private static long allocatedRequest(Kernel kernel) {
        String line = kernelLines(kernel).stream().filter(l -> l.startsWith("wrongsize: request allocated "))
                .findFirst().orElseThrow();
        String hex = line.substring("wrongsize: request allocated 0x".length(), line.indexOf(' ', 31));
        return Long.parseUnsignedLong(hex, 16);
    }

    private static String lastKextLine(Kernel kernel) {
        List<String> lines = kernelLines(kernel).stream().filter(l -> l.startsWith("wrongsize: ")).toList();
        return lines.get(lines.size() - 1);
    }

    private static List<String> kernelLines(Kernel kernel) {
        return kernel.log().lines().stream().map(l -> l.text()).toList();
    }
}
