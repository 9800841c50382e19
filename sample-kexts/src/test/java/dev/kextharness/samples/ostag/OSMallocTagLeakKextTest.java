package dev.kextharness.samples.ostag;

import dev.kextharness.junit.ExpectLeak;
import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static dev.kextharness.samples.SourceLines.location;
import static org.assertj.core.api.Assertions.assertThat;

@KextTest(leakPolicy = LeakPolicy.PANIC)
class OSMallocTagLeakKextTest {
    private static final String ID = "cn.junkman.kext-memleak";
    private static final String FIRST_OSMALLOC = "p = OSMalloc(1, tag);";
    private static final String SECOND_OSMALLOC = "long q = OSMalloc(1, tag);";
    private static final String TAGALLOC = "tag = OSMalloc_Tagalloc(TAGNAME, OSMT_DEFAULT);";

    @Test
    void unloadPanicsNamingBothOSMallocSitesAndTheLingeringTag(Kernel kernel) {
        LoadedKext kext = kernel.kextload(OSMallocTagLeakKext.class);

        String note = assertThatPanics(() -> kernel.kextunload(kext))
                .hasPanicString("KEXT LEAK: " + ID + ": 3 allocations (94 bytes) outstanding at unload")
                .panicLogContains(ID + "(1.0)")
                .actual().harnessNote();

        assertThat(note)
                .contains("1 allocation of 92 bytes (96 wired) in kalloc.96, by OSMalloc_Tagalloc\n"
                        + "      at " + location(OSMallocTagLeakKext.class, "start", TAGALLOC))
                .contains("1 allocation of 1 byte (16 wired) in kalloc.16, by OSMalloc with tag '"
                        + OSMallocTagLeakKext.TAGNAME + "'\n"
                        + "      at " + location(OSMallocTagLeakKext.class, "start", FIRST_OSMALLOC))
                .contains("1 allocation of 1 byte (16 wired) in kalloc.16, by OSMalloc with tag '"
                        + OSMallocTagLeakKext.TAGNAME + "'\n"
                        + "      at " + location(OSMallocTagLeakKext.class, "stop", SECOND_OSMALLOC))
                .contains("fix: free it with OSFree (same size, same tag) before stop returns");
    }

    @Test
    @ExpectLeak(kext = OSMallocTagLeakKext.class, count = 3)
    void printsTheArticlesLinesAndTheSecondOSMallocAfterTagfreeSucceeds(Kernel kernel) {
        LoadedKext kext = kernel.kextload(OSMallocTagLeakKext.class);
        kernel.kextunload(kext);

        LedgerSnapshot leaked = kernel.leakReport(kext).outstanding();
        long p = onlyBlock(leaked, "start", "OSMalloc");
        long q = onlyBlock(leaked, "stop", "OSMalloc");
        assertThat(q).as("the OSMalloc after OSMalloc_Tagfree succeeds").isNotZero().isNotEqualTo(p);
        // Catalina's kalloc.16 is cached: a fresh element's first byte is zcache's canary's, not 0xef.
        long canary = kernel.zalloc().zcacheCanary();
        assertThat(kextLines(kernel)).containsExactly(
                "kext-memleak: tag->OSMT_refcnt = 2",
                String.format("kext-memleak: byte allocated %#x %#x", p, (canary ^ p) & 0xff),
                String.format("kext-memleak: #1 byte leaked %#x %#x", p, (canary ^ p) & 0xff),
                String.format("kext-memleak: #2 byte leaked %#x %#x", q, (canary ^ q) & 0xff));
    }

    @Test
    @ExpectLeak(kext = OSMallocTagLeakKext.class, count = 3)
    void theTagOutlivesTheKextReleasedButStillReferencedTwice(Kernel kernel) {
        kernel.kextunload(kernel.kextload(OSMallocTagLeakKext.class));

        OSMallocTags osmalloc = kernel.osmalloc();
        List<Long> tags = osmalloc.liveTags();
        assertThat(tags).hasSize(1);
        long tag = tags.get(0);
        assertThat(osmalloc.name(tag)).isEqualTo(OSMallocTagLeakKext.TAGNAME);
        assertThat(osmalloc.state(tag)).isEqualTo(OSMallocTags.OSMT_VALID | OSMallocTags.OSMT_RELEASED);
        assertThat(osmalloc.refcnt(tag)).isEqualTo(2);
    }

    @Test
    void balancedTwinFreesTheBlockAndThenTheTag(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedOSMallocTagKext.class);
        assertThat(kernel.osmalloc().liveTags()).hasSize(1);

        kernel.kextunload(kext);

        assertThat(kernel).hasNoLeaks();
        assertThat(kernel.osmalloc().liveTags()).isEmpty();
        assertThat(kextLines(kernel)).first().isEqualTo("kext-memleak: tag->OSMT_refcnt = 2");
    }

    private static long onlyBlock(LedgerSnapshot snapshot, String method, String function) {
        List<LedgerSnapshot.Group> groups = snapshot.groups().stream()
                .filter(g -> g.site().methodName().equals(method) && g.site().function().equals(function))
                .toList();
        assertThat(groups).as("%s in %s", function, method).hasSize(1);
        assertThat(groups.get(0).addresses()).hasSize(1);
        return groups.get(0).addresses().get(0);
    }

    private static List<String> kextLines(Kernel kernel) {
        return kernel.log().lines().stream().map(line -> line.text())
                .filter(text -> text.startsWith("kext-memleak: ")).toList();
    }
}
