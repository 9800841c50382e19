package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.fixtures.MemoryBugs;
import dev.kextharness.kernel.kext.fixtures.MemoryBugsKext;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.SparseMemory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Issue 12 part 2: every kext access is checked where it happens, and each memory error is
 * reported at its access with ASan's three sites (the access, the free, the allocation) and what
 * Catalina would have done for that zone; the XNU modes let it through as XNU does.
 */
class KextMemoryCheckTest {
    private static final Path SOURCE = Path.of("src/test/java/dev/kextharness/kernel/kext/fixtures/MemoryBugsKext.java");

    private final Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.FAIL));
    private final MemoryBugs bugs = kernel.kextload(MemoryBugsKext.class).service(MemoryBugs.class);

    /** "function at MemoryBugsKext.method(MemoryBugsKext.java:N)" for the line marked {@code // site: function}. */
    private static String at(String function) {
        return function + " at " + loc(function);
    }

    /** "MemoryBugsKext.method(MemoryBugsKext.java:N)" for the line marked {@code // site: function}. */
    private static String loc(String function) {
        List<String> lines;
        try {
            lines = Files.readAllLines(SOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String method = null;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.contains(" public ") && line.contains("(")) {
                String head = line.substring(0, line.indexOf('('));
                method = head.substring(head.lastIndexOf(' ') + 1);
            }
            if (line.endsWith("// site: " + function)) {
                return "MemoryBugsKext." + method + "(MemoryBugsKext.java:" + (i + 1) + ")";
            }
        }
        throw new IllegalArgumentException("no line marked // site: " + function);
    }

    private static String p(long addr) {
        return CFormat.format("%p", addr);
    }

    private KernelPanic panicOf(Runnable access) {
        KernelPanic panic = catchThrowableOfType(KernelPanic.class, access::run);
        assertThat(panic).as("the access panics").isNotNull();
        assertThat(kernel.panicked()).isTrue();
        return panic;
    }

    @Test
    void aNulOneBytePastAnElevenByteStringInKalloc16IsCaughtAtTheStrlcpy() {
        long name = bugs.mallocBlock(11, false);
        int before = kernel.memory().load8(name + 11); // the zcache canary's byte: kalloc.16 is cached on Catalina
        KernelPanic panic = panicOf(() -> bugs.copyName(name, "hello world", 12));
        assertThat(panic.panicString()).isEqualTo("out of bounds: write of 12 bytes at " + p(name)
                + " runs 1 bytes past the 11-byte block " + p(name) + " (in a 16-byte element of kalloc.16); accessed at "
                + at("strlcpy") + "; allocated by _MALLOC(11) at " + loc("_MALLOC"));
        assertThat(panic.harnessNote()).startsWith("Catalina is silent: the element's 16 bytes are all kalloc.16's");
        assertThat(kernel.memory().load8(name + 11)).as("stopped before the write: unchanged").isEqualTo(before);
    }

    @Test
    void aReadPastTheRequestedSizeIsCaughtByThePercentSRead() {
        long name = bugs.mallocBlock(4, false);
        bugs.fill(name, 'A', 4);
        KernelPanic panic = panicOf(() -> bugs.print(name));
        assertThat(panic.panicString()).startsWith("out of bounds: read of 1 bytes at " + p(name + 4)
                + " runs 1 bytes past the 4-byte block " + p(name) + " (in a 16-byte element of kalloc.16); accessed at "
                + at("printf"));
    }

    @Test
    void aWriteAfterFreeToAMiddleWordNamesTheAccessTheFreeAndTheAllocation() {
        long session = bugs.kallocBlock(48);
        bugs.kfreeBlock(session, 48);
        KernelPanic panic = panicOf(() -> bugs.write64(session + 8, 2));
        assertThat(panic.panicString()).isEqualTo("use after free: write of 8 bytes at " + p(session + 8)
                + ", 8 bytes into the freed 48-byte block " + p(session) + " in kalloc.48; accessed at " + at("store64")
                + "; freed by kfree at " + loc("kfree") + "; allocated by kalloc(48) at " + loc("kalloc"));
        assertThat(panic.harnessNote()).isEqualTo("Catalina: kalloc.48 has a per-CPU cache (zcache), which checks only "
                + "the first and last words: this write to a middle word is never detected. The harness stops at the access.");
    }

    @Test
    void aWriteAfterFreeToTheFirstWordOfACachedElementWouldTripTheCanary() {
        long block = bugs.kallocBlock(64);
        bugs.kfreeBlock(block, 64);
        KernelPanic panic = panicOf(() -> bugs.write64(block, 0));
        assertThat(panic.harnessNote()).contains("kalloc.64 has a per-CPU cache (zcache); this write changes the canary "
                + "in the element's first word", "\"Zone cache element was used after free!\"");
    }

    @Test
    void aWriteAfterFreeInANonCachedZoneWouldBeCaughtByZonePoisoningLater() {
        long block = bugs.kallocBlock(1100);
        bugs.kfreeBlock(block, 1100);
        KernelPanic panic = panicOf(() -> bugs.zero(block + 100, 16));
        assertThat(panic.panicString()).startsWith("use after free: write of 16 bytes at " + p(block + 100)
                + ", 100 bytes into the freed 1100-byte block " + p(block) + " in kalloc.1152; accessed at " + at("bzero"));
        assertThat(panic.harnessNote()).contains("kalloc.1152 has no per-CPU cache",
                "\"a freed zone element has been modified in zone kalloc.1152\"", "1 in 88");
    }

    @Test
    void aReadAfterFreeIsCaughtToo() {
        long block = bugs.mallocBlock(32, true);
        bugs.freeBlock(block);
        KernelPanic panic = panicOf(() -> bugs.read64(block));
        assertThat(panic.panicString()).isEqualTo("use after free: read of 8 bytes at " + p(block)
                + ", 0 bytes into the freed 32-byte block " + p(block) + " in kalloc.32; accessed at " + at("load64")
                + "; freed by _FREE at " + loc("_FREE") + "; allocated by _MALLOC(32) at " + loc("_MALLOC"));
        assertThat(panic.harnessNote()).startsWith("Catalina would return what the element holds, silently");
    }

    @Test
    void aBcopyFromAFreedBlockIsCaughtAtTheCopy() {
        long from = bugs.kallocBlock(128);
        long to = bugs.kallocBlock(128);
        bugs.kfreeBlock(from, 128);
        KernelPanic panic = panicOf(() -> bugs.copy(from, to, 128));
        assertThat(panic.panicString()).startsWith("use after free: read of 128 bytes at " + p(from))
                .contains("accessed at " + at("bcopy"), "freed by kfree at " + loc("kfree"));
    }

    @Test
    void aDoubleFreeNamesTheFirstFreeAndTheAllocation() {
        long block = bugs.kallocBlock(48);
        bugs.kfreeBlock(block, 48);
        KernelPanic panic = panicOf(() -> bugs.kfreeBlock(block, 48));
        assertThat(panic.panicString()).isEqualTo("zfree: double free of " + p(block) + " to zone kalloc.48\n");
        assertThat(panic.harnessNote()).startsWith("a 48-byte block of kalloc.48 allocated by " + at("kalloc")
                + ", first freed by " + at("kfree") + "; Catalina: kalloc.48 has a per-CPU cache (zcache), which takes "
                + "the second free silently");
    }

    @Test
    void aWrongZoneKfreeNamesTheAllocationAndItsSize() {
        long block = bugs.kallocBlock(40);
        KernelPanic panic = panicOf(() -> bugs.kfreeBlock(block, 100));
        assertThat(panic.panicString()).isEqualTo("Element " + p(block)
                + " from zone kalloc.48 caught being freed to wrong zone kalloc.128\n");
        assertThat(panic.harnessNote()).isEqualTo("the element at " + p(block) + " is a 40-byte block of kalloc.48 "
                + "allocated by " + at("kalloc") + "; the size passed to the free selects kalloc.128");
    }

    @Test
    void aLargeBlockUsedAfterFreeNamesItsSitesAndWouldPageFaultOnCatalina() {
        long block = bugs.kallocBlock(20000);
        bugs.kfreeBlock(block, 20000);
        KernelPanic panic = panicOf(() -> bugs.read64(block + 16));
        assertThat(panic.panicString()).isEqualTo("use after free: read of 8 bytes at " + p(block + 16)
                + ", 16 bytes into the freed 20000-byte block " + p(block) + " in kalloc_map; accessed at " + at("load64")
                + "; freed by kfree at " + loc("kfree") + "; allocated by kalloc(20000) at " + loc("kalloc"));
        assertThat(panic.harnessNote()).contains("type 14=page fault");
    }

    @Test
    void aLargeBlockAccessPastItsRequestedSizeInsideItsLastPageIsCaught() {
        long block = bugs.kallocBlock(20000);
        KernelPanic panic = panicOf(() -> bugs.write64(block + 19996, 0));
        assertThat(panic.panicString()).isEqualTo("out of bounds: write of 8 bytes at " + p(block + 19996)
                + " runs 4 bytes past the 20000-byte block " + p(block) + " (20480 bytes mapped in kalloc_map); accessed at "
                + at("store64") + "; allocated by kalloc(20000) at " + loc("kalloc"));
        assertThat(panic.harnessNote()).startsWith("Catalina is silent");
    }

    @Test
    void inTheXnuModesTheSameAccessesGoThroughAndXnusOwnChecksDecide() {
        Kernel xnu = Kernel.boot(KernelConfig.defaults().withFindings(false).withLeakPolicy(LeakPolicy.XNU));
        MemoryBugs onXnu = xnu.kextload(MemoryBugsKext.class).service(MemoryBugs.class);
        long name = onXnu.mallocBlock(11, false);
        onXnu.copyName(name, "hello world", 12);
        assertThat(xnu.memory().load8(name + 11)).as("the NUL landed in the bucket's slack").isZero();
        long large = onXnu.kallocBlock(20000);
        onXnu.write64(large + 19996, -1);
        long block = onXnu.kallocBlock(1100);
        onXnu.kfreeBlock(block, 1100);
        onXnu.write64(block + 104, 0x4141414141414141L);
        assertThat(xnu.panicked()).as("nothing checks at the write").isFalse();
        KernelPanic panic = catchThrowableOfType(KernelPanic.class, () -> onXnu.kallocBlock(1100));
        assertThat(panic.panicString()).startsWith("a freed zone element has been modified in zone kalloc.1152: "
                + "expected 0xdeadbeefdeadbeef but found 0x4141414141414141, bits changed ")
                .contains("at offset 104 of 1152 in element " + p(block));
    }

    @Test
    void freedMemoryReadsAsPoisonAgainWithoutAPoisonPassOverTheWholeElement() {
        Kernel xnu = Kernel.boot(KernelConfig.defaults().withFindings(false).withLeakPolicy(LeakPolicy.XNU));
        MemoryBugs onXnu = xnu.kextload(MemoryBugsKext.class).service(MemoryBugs.class);
        long block = onXnu.kallocBlock(4096);
        onXnu.write64(block, 7);
        onXnu.kfreeBlock(block, 4096);
        long again = onXnu.kallocBlock(4096);
        assertThat(again).isEqualTo(block);
        // kalloc.4096 is cached on Catalina: the first and last words carry the zcache canary, the rest poison.
        long canary = xnu.zalloc().zcacheCanary() ^ again;
        assertThat(onXnu.read64(again)).isEqualTo(canary);
        assertThat(onXnu.read64(again + 8)).isEqualTo(SparseMemory.ZP_POISON);
        assertThat(onXnu.read64(again + 4080)).isEqualTo(SparseMemory.ZP_POISON);
        assertThat(onXnu.read64(again + 4088)).isEqualTo(canary);
        assertThat(xnu.panicked()).isFalse();
    }

    // Issue 11 part 5: bounded resources.

    @Test
    void aZeroedTwoGibMallocAndItsBzeroCostNoHeap() {
        long block = bugs.mallocBlock(2L << 30, true);
        assertThat(block).isNotZero();
        assertThat(kernel.memory().privatePages()).as("pages with bytes of their own").isZero();
        assertThat(bugs.read64(block + (2L << 30) - 8)).isZero();
        bugs.zero(block, 2L << 30);
        bugs.fill(block, 0x5a, 2L << 30);
        assertThat(kernel.memory().privatePages()).as("a whole-page memset shares one page per value").isZero();
        assertThat(bugs.read64(block + (1L << 30))).isEqualTo(0x5a5a5a5a5a5a5a5aL);
        bugs.freeBlock(block);
        assertThat(kernel.memory().materializedPages()).isZero();
    }

    @Test
    void aBzeroOfATebibyteFaultsAtTheFirstUnmappedPageBeforeWritingAnything() {
        long block = bugs.mallocBlock(2L << 30, true);
        bugs.write64(block, 1);
        int pages = kernel.memory().materializedPages();
        KernelPanic panic = panicOf(() -> bugs.zero(block, 1L << 40));
        assertThat(panic.panicString()).startsWith("Kernel trap at ").contains("type 14=page fault",
                CFormat.format("CR2: 0x%016llx", block + (2L << 30)));
        assertThat(kernel.memory().materializedPages()).isEqualTo(pages);
        assertThat(kernel.memory().load(block, 8)).as("nothing was written before the fault").isEqualTo(1);
    }
}
