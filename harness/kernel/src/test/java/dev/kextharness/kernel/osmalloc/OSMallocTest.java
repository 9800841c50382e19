package dev.kextharness.kernel.osmalloc;

import static dev.kextharness.kernel.TestKernel.p;
import static dev.kextharness.kernel.osmalloc.OSMallocTags.OSMT_PAGEABLE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Zone;
import org.junit.jupiter.api.Test;

/** Fact sheet §4: OSMalloc and its refcounted tags. */
class OSMallocTest {
    private static final String DEMO_TAG = "f2fc2611-07b1-4a30-af82-3459596b64cb";

    @Test
    void tagLayoutConstants() {
        assertThat(OSMallocTags.OSMT_VALID).isEqualTo(0xDEAB0000L);
        assertThat(OSMallocTags.OSMT_VALID_MASK).isEqualTo(0xFFFF0000L);
        assertThat(OSMallocTags.OSMT_RELEASED).isEqualTo(1);
        assertThat(OSMallocTags.OSMT_PAGEABLE).isEqualTo(1);
        assertThat(OSMallocTags.OSMT_MAX_NAME).isEqualTo(64);
        assertThat(OSMallocTags.OFFSET_REFCNT).isEqualTo(16); // after the queue_chain_t
        assertThat(OSMallocTags.TAG_SIZE).isEqualTo(92);
    }

    @Test
    void aTagIsAKalloc96ElementWithRefcountOneAndStateValid() {
        TestKernel t = TestKernel.boot();
        Zone z96 = t.zone("kalloc.96");
        long count = z96.liveCount();
        long tag = t.tagalloc(DEMO_TAG, 0);
        assertThat(t.zoneOf(tag)).isEqualTo("kalloc.96");
        assertThat(z96.liveCount()).isEqualTo(count + 1);
        assertThat(t.kernel.memory().load(tag + 16, 4)).isEqualTo(1);
        assertThat(t.kernel.memory().load(tag + 20, 4)).isEqualTo(0xDEAB0000L);
        assertThat(t.kernel.memory().load(tag + 24, 4)).isZero();
        assertThat(t.kernel.osmalloc().name(tag)).isEqualTo(DEMO_TAG);
        assertThat(t.kernel.osmalloc().isPageable(tag)).isFalse();
        assertThat(t.kernel.osmalloc().liveTags()).containsExactly(tag);
        // bzero'ed: the queue link words read zero, and the name is NUL-terminated.
        assertThat(t.kernel.memory().load(tag, 8)).isZero();
        assertThat(t.kernel.memory().load8(tag + 28 + DEMO_TAG.length())).isZero();
    }

    @Test
    void pageableTagHasTheAttribute() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("p", OSMT_PAGEABLE);
        assertThat(t.kernel.memory().load(tag + 24, 4)).isEqualTo(1);
        assertThat(t.kernel.osmalloc().isPageable(tag)).isTrue();
    }

    @Test
    void longNamesAreCutTo63Characters() {
        TestKernel t = TestKernel.boot();
        String name = "x".repeat(100);
        long tag = t.tagalloc(name, 0);
        assertThat(t.kernel.osmalloc().name(tag)).isEqualTo("x".repeat(63));
    }

    @Test
    void twoTagsWithTheSameNameAreIndependent() {
        TestKernel t = TestKernel.boot();
        long a = t.tagalloc("same", 0);
        long b = t.tagalloc("same", 0);
        assertThat(a).isNotEqualTo(b);
        t.osmalloc(8, a);
        assertThat(t.kernel.osmalloc().refcnt(a)).isEqualTo(2);
        assertThat(t.kernel.osmalloc().refcnt(b)).isEqualTo(1);
        assertThat(t.kernel.osmalloc().liveTags()).containsExactly(a, b);
    }

    /** The source article's OSMalloc leak demo, step by step. */
    @Test
    void theSourceArticleDemo() {
        TestKernel t = TestKernel.boot();
        Zone z96 = t.zone("kalloc.96");
        long tagsBefore = z96.liveCount();

        long tag = t.tagalloc(DEMO_TAG, 0);
        long p1 = t.osmalloc(1, tag);
        assertThat(p1).isNotZero();
        assertThat(t.zoneOf(p1)).isEqualTo("kalloc.16");
        // uint32_t *tag_refcnt = (void *) tag + sizeof(queue_chain_t): "tag->OSMT_refcnt = 2"
        assertThat(t.kernel.memory().load(tag + 16, 4)).isEqualTo(2);

        // The kext forgets OSFree(p1) and frees the tag: it is released but lives on.
        t.tagfree(tag);
        assertThat(t.kernel.memory().load(tag + 20, 4)).isEqualTo(0xDEAB0001L);
        assertThat(t.kernel.memory().load(tag + 16, 4)).isEqualTo(1);
        assertThat(z96.liveCount()).isEqualTo(tagsBefore + 1);
        assertThat(t.kernel.osmalloc().liveTags()).containsExactly(tag);

        // "OSMalloc will succeed :. tag still alive": XNU takes it, the harness reports it.
        long q = t.osmalloc(1, tag);
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.RELEASED_TAG);
            assertThat(f.message()).startsWith("OSMalloc with tag '" + DEMO_TAG + "' after its owner released it "
                    + "(released by OSMalloc_Tagfree at Test.method(Test.java:");
        });
        assertThat(q).isNotZero();
        assertThat(t.kernel.memory().load(tag + 16, 4)).isEqualTo(2);

        t.osfree(q, 1, tag);
        assertThat(t.kernel.memory().load(tag + 16, 4)).isEqualTo(1);
        assertThat(z96.liveCount()).isEqualTo(tagsBefore + 1);

        // The last OSFree drops the last reference: the tag is unlinked and kfree'd.
        t.osfree(p1, 1, tag);
        assertThat(z96.liveCount()).isEqualTo(tagsBefore);
        assertThat(t.kernel.osmalloc().liveTags()).isEmpty();
        assertThat(t.kernel.ledger().liveCount(t.site("OSMalloc_Tagalloc"))).isZero();
        assertThat(t.kernel.ledger().liveCount(t.site("OSMalloc"))).isZero();
        assertThat(t.kernel.ledger().findings()).as("OSFree after Tagfree is how blocks give the tag back").hasSize(1);
        assertThat(t.kernel.panicked()).isFalse();
    }

    @Test
    void tagfreeWithNoBlocksFreesTheTagAtOnce() {
        TestKernel t = TestKernel.boot();
        Zone z96 = t.zone("kalloc.96");
        long count = z96.liveCount();
        long tag = t.tagalloc("t", 0);
        long a = t.osmalloc(100, tag);
        t.osfree(a, 100, tag);
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(1);
        t.tagfree(tag);
        assertThat(z96.liveCount()).isEqualTo(count);
        assertThat(t.kernel.osmalloc().liveTags()).isEmpty();
    }

    @Test
    void moreOSFreeThanOSMallocPanicsWithRefcntZero() {
        TestKernel t = TestKernel.boot();
        long a = t.tagalloc("tag.a", 0);
        long b = t.tagalloc("tag.b", 0);
        long block = t.osmalloc(32, a);
        // b never allocated anything: its only reference is its own, and OSFree drops it.
        t.assertPanics(() -> t.osfree(block, 32, b), "OSMalloc_Tagrele():'tag.b' has refcnt 0\n");
    }

    @Test
    void osfreeWithAnotherTagIsATagMismatchFinding() {
        TestKernel t = TestKernel.boot();
        long a = t.tagalloc("tag.a", 0);
        long b = t.tagalloc("tag.b", 0);
        long block = t.osmalloc(32, a);
        t.osmalloc(32, b);
        t.osfree(block, 32, b);
        assertThat(t.kernel.osmalloc().refcnt(a)).isEqualTo(2);
        assertThat(t.kernel.osmalloc().refcnt(b)).isEqualTo(1);
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.TAG_MISMATCH);
            assertThat(f.message()).isEqualTo("OSFree(" + p(block) + ") names tag 'tag.b' but the block was allocated "
                    + "with tag 'tag.a'. Real XNU stays silent and the two tags' refcounts go wrong.");
        });
    }

    @Test
    void doubleTagfreePanicsWithBadState() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("twice", 0);
        t.osmalloc(8, tag);
        t.tagfree(tag);
        t.assertPanics(() -> t.tagfree(tag), "OSMalloc_Tagfree():'twice' has bad state 0xDEAB0001 \n");
    }

    @Test
    void osmallocAfterTheTagWasFreedPanicsOnThePoisonedState() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withFindings(false));
        long tag = t.tagalloc("gone", 0);
        t.tagfree(tag);
        String poisonName = freedTagName(t, tag);
        assertThat(t.kernel.osmalloc().name(tag)).isEqualTo(poisonName);
        t.assertPanics(() -> t.osmalloc(16, tag),
                "OSMalloc_Tagref():'" + poisonName + "' has bad state 0xDEADBEEF\n");
    }

    @Test
    void osfreeAfterTheTagWasFreedPanicsWithTagrefsMessage() {
        TestKernel t = TestKernel.boot(KernelConfig.defaults().withFindings(false));
        long tag = t.tagalloc("gone", 0);
        long other = t.tagalloc("other", 0);
        long block = t.osmalloc(16, other);
        t.tagfree(tag);
        String poisonName = freedTagName(t, tag);
        // Tagrele's check prints Tagref's name (copy-paste in XNU).
        t.assertPanics(() -> t.osfree(block, 16, tag),
                "OSMalloc_Tagref():'" + poisonName + "' has bad state 0xDEADBEEF\n");
    }

    @Test
    void withFindingsAFreedTagIsAUseAfterFreeNamingItsAllocationAndRelease() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("gone", 0);
        t.tagfree(tag);
        KernelPanic panic = catchThrowableOfType(KernelPanic.class, () -> t.osmalloc(16, tag));
        assertThat(panic.panicString()).matches("use after free: OSMalloc with the freed tag " + p(tag)
                + " \\('gone'\\); accessed at Test.method\\(Test.java:\\d+\\); released by OSMalloc_Tagfree at "
                + "Test.method\\(Test.java:\\d+\\); allocated by OSMalloc_Tagalloc at Test.method\\(Test.java:\\d+\\)");
        assertThat(panic.harnessNote()).contains("OSMalloc_Tagref panics \"has bad state\"");
    }

    @Test
    void nowaitOnAPageableTagIsNullAndTakesNoReference() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("p", OSMT_PAGEABLE);
        assertThat(t.osmallocNowait(16, tag)).isZero();
        assertThat(t.osmallocNowait(8192, tag)).isZero();
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(1);
    }

    @Test
    void nowaitIsNullAbove16384AndDropsTheReferenceItTook() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("n", 0);
        assertThat(t.osmallocNowait(16385, tag)).isZero();
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(1);
        long a = t.osmallocNowait(16384, tag);
        assertThat(t.zoneOf(a)).isEqualTo("kalloc.16384");
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(2);
        t.osfree(a, 16384, tag);
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(1);
    }

    @Test
    void blockingOSMallocOfALargeSizeOnADefaultTagIsAKallocLargeBlock() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("big", 0);
        long a = t.osmalloc(100000, tag);
        assertThat(t.kernel.kalloc().largeBlock(a)).isNotNull();
        assertThat(t.kernel.kalloc().largeTotal()).isEqualTo(102400);
        t.osfree(a, 100000, tag);
        assertThat(t.kernel.kalloc().largeTotal()).isZero();
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(1);
    }

    @Test
    void pageableTagBlocksOfAPageOrMoreComeFromKernelMap() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("pageable", OSMT_PAGEABLE);
        long big = t.osmalloc(10000, tag);
        VmMap.Entry entry = t.kernel.kernelMap().entryAt(big);
        assertThat(entry).isNotNull();
        assertThat(entry.kind).isEqualTo(VmMap.Kind.PAGEABLE);
        assertThat(entry.size).isEqualTo(12288);
        assertThat(t.zoneOf(big)).isNull();
        assertThat(t.kernel.kalloc().largeInuse()).isZero(); // not kalloc
        long page = t.osmalloc(4096, tag);
        assertThat(t.kernel.kernelMap().entryAt(page).kind).isEqualTo(VmMap.Kind.PAGEABLE);
        // Smaller blocks are wired kalloc memory even for a pageable tag.
        long small = t.osmalloc(4095, tag);
        assertThat(t.zoneOf(small)).isEqualTo("kalloc.4096");
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(4);
        assertThat(t.kernel.ledger().liveCount(t.site("OSMalloc"))).isEqualTo(3);
        assertThat(t.kernel.snapshot().tag("pageable").count()).isEqualTo(3);

        t.osfree(big, 10000, tag);
        t.osfree(page, 4096, tag);
        t.osfree(small, 4095, tag);
        assertThat(t.kernel.kernelMap().entryAt(big)).isNull();
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(1);
        assertThat(t.kernel.ledger().liveCount(t.site("OSMalloc"))).isZero();
        assertThat(t.kernel.ledger().findings()).isEmpty();
    }

    @Test
    void osfreeWithAPageableTagOfSomethingElseIsAFinding() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("pageable", OSMT_PAGEABLE);
        t.osmalloc(8192, tag);
        long io = t.kernel.iokit().ioMallocPageable(8192, 1, t.site("IOMallocPageable"));
        t.osfree(io, 8192, tag);
        assertThat(t.kernel.kernelMap().entryAt(io)).isNotNull();
        assertThat(t.kernel.osmalloc().refcnt(tag)).isEqualTo(1);
        assertThat(t.kernel.ledger().findings()).singleElement().satisfies(f -> {
            assertThat(f.kind()).isEqualTo(Finding.Kind.LARGE_FREE_MISMATCH);
            assertThat(f.message()).isEqualTo("OSFree(" + p(io) + ", 8192) with a pageable tag frees no pageable "
                    + "block: real XNU's kmem_free unmaps the range silently.");
        });
    }

    @Test
    void osfreeOfNullHasNoNullCheck() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("null", 0);
        assertThat(TestKernel.panicOf(() -> t.osfree(0, 16, tag)).panicString())
                .startsWith("Kernel trap at 0xffffff8000a1b2c3, type 14=page fault");
    }

    @Test
    void osfreeWithTheWrongBucketPanicsLikeKfree() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("t", 0);
        long a = t.osmalloc(40, tag);
        t.assertPanics(() -> t.osfree(a, 100, tag),
                "Element " + p(a) + " from zone kalloc.48 caught being freed to wrong zone kalloc.128\n");
    }

    @Test
    void snapshotGroupsOSMallocBlocksByTag() {
        TestKernel t = TestKernel.boot();
        long a = t.tagalloc("tag.a", 0);
        long b = t.tagalloc("tag.b", 0);
        t.osmalloc(10, a);
        t.osmalloc(10, a);
        t.osmalloc(10, b);
        assertThat(t.kernel.snapshot().tag("tag.a").count()).isEqualTo(2);
        assertThat(t.kernel.snapshot().tag("tag.a").requestedBytes()).isEqualTo(20);
        assertThat(t.kernel.snapshot().tag("tag.b").count()).isEqualTo(1);
    }

    /**
     * The name a freed tag reads as: its kalloc.96 element is poisoned, and its last word (name
     * bytes 60..63 and on) holds zcache's canary, so 0xdeadbeef bytes, then the canary's low bytes.
     */
    private static String freedTagName(TestKernel t, long tag) {
        long canary = t.kernel.zalloc().zcacheCanary() ^ tag;
        StringBuilder name = new StringBuilder("\u00ef\u00be\u00ad\u00de".repeat(15));
        for (int i = 0; i < 4 && ((canary >>> (8 * i)) & 0xff) != 0; i++) {
            name.append((char) ((canary >>> (8 * i)) & 0xff));
        }
        return name.toString();
    }
}
