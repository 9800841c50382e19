package dev.kextharness.samples;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.samples.doublefree.BalancedSessionKext;
import dev.kextharness.samples.doublefree.DoubleFreeKext;
import dev.kextharness.samples.doublefree.SessionTable;
import dev.kextharness.samples.doublefree.WriteAfterFreeKext;
import dev.kextharness.samples.iokit.BalancedIOBufferDriver;
import dev.kextharness.samples.iokit.IOBufferDriver;
import dev.kextharness.samples.iokit.LeakyIOBufferDriver;
import dev.kextharness.samples.libkext.BalancedLibkextKext;
import dev.kextharness.samples.libkext.LibkextMemleakKext;
import dev.kextharness.samples.memleak.BalancedMemleakKext;
import dev.kextharness.samples.memleak.MemleakKext;
import dev.kextharness.samples.ostag.BalancedOSMallocTagKext;
import dev.kextharness.samples.ostag.OSMallocTagLeakKext;
import dev.kextharness.samples.slowleak.BalancedSlowLeakKext;
import dev.kextharness.samples.slowleak.RequestService;
import dev.kextharness.samples.slowleak.SlowLeakKext;
import dev.kextharness.samples.wrongsize.BalancedKfreeKext;
import dev.kextharness.samples.wrongsize.SameBucketKfreeKext;
import dev.kextharness.samples.wrongsize.WrongZoneKfreeKext;
import dev.kextharness.samples.ports.LeakyPortInspectorKext;
import dev.kextharness.samples.ports.PortInspectorKext;
import dev.kextharness.samples.ports.userland.PortLeakStory;

import java.util.List;
import java.util.Optional;

/** Every sample kext in tour order; the single list the demo, the CLI and the docs read. */
public final class SampleCatalog {

    private static final List<Sample> SAMPLES = List.of(
            new Sample("memleak", "_MALLOC leak on unload (kext-memleak)",
                    MemleakKext.class, BalancedMemleakKext.class,
                    "Every _MALLOC needs its _FREE before stop returns: unloading a kext does not free "
                            + "what it allocated.",
                    Sample.Outcome.PANIC, Sample.Exercise.NOTHING),
            new Sample("ostag", "OSMalloc tag kept alive by a block never OSFreed",
                    OSMallocTagLeakKext.class, BalancedOSMallocTagKext.class,
                    "Every OSMalloc needs its OSFree before OSMalloc_Tagfree: a tag is freed only when its refcount "
                            + "reaches zero, so one forgotten block keeps both the block and the tag alive after unload.",
                    Sample.Outcome.PANIC, Sample.Exercise.NOTHING),
            new Sample("libkext", "A counting allocator that panics at unload (libkext_memck)",
                    LibkextMemleakKext.class, BalancedLibkextKext.class,
                    "Count every block you allocate and check the count is zero as the last thing stop does: "
                            + "libkext_memck turns a forgotten libkext_mfree into a panic at unload instead of a "
                            + "silent leak.",
                    Sample.Outcome.PANIC, Sample.Exercise.NOTHING),
            new Sample("iokit", "IOMalloc without IOFree in an IOKit driver (zprint, ioalloccount)",
                    LeakyIOBufferDriver.class, BalancedIOBufferDriver.class,
                    "Every IOMalloc needs its IOFree, with the same size, on every path: a driver that leaks a "
                            + "buffer per request grows a kalloc zone that zprint and ioalloccount show climbing.",
                    Sample.Outcome.PANIC, SampleCatalog::readEightTimes),
            new Sample("wrongsize", "kfree with a stale size from another bucket (wrong zone)",
                    WrongZoneKfreeKext.class, BalancedKfreeKext.class,
                    "kfree must be given the size that was allocated: the size, not the address, picks the zone, "
                            + "and a size from another bucket frees the element to the wrong zone.",
                    Sample.Outcome.PANIC, Sample.Exercise.NOTHING),
            new Sample("wrongsize-samebucket", "kfree with a stale size from the same bucket (silent in XNU)",
                    SameBucketKfreeKext.class, BalancedKfreeKext.class,
                    "kfree must be given the size that was allocated, even when a wrong size lands in the same "
                            + "bucket and XNU lets it pass: the next change to the structure turns it into a panic.",
                    Sample.Outcome.FINDING, Sample.Exercise.NOTHING),
            new Sample("doublefree", "A session freed twice (double free)",
                    DoubleFreeKext.class, BalancedSessionKext.class,
                    "Free each block exactly once, and forget the pointer as you free it: a dangling pointer "
                            + "freed again hands the zone an element it already holds.",
                    Sample.Outcome.PANIC, SampleCatalog::openAndCloseASession),
            new Sample("writeafterfree", "A session written after it was freed (write after free)",
                    WriteAfterFreeKext.class, BalancedSessionKext.class,
                    "Finish with a block before freeing it: a write after free corrupts an element the zone "
                            + "will hand to the next caller; Catalina panics only if the write hits a word it "
                            + "checks (a cached zone's first or last word), otherwise the corruption goes unseen.",
                    Sample.Outcome.PANIC, SampleCatalog::openCloseAndOpenAgain),
            new Sample("slowleak", "A slow kalloc.48 leak on every request (the 10.15.6 regression)",
                    SlowLeakKext.class, BalancedSlowLeakKext.class,
                    "Every kalloc a request makes needs its kfree when the request completes: a few bytes "
                            + "per request add up until the zone map runs out.",
                    Sample.Outcome.PANIC, SampleCatalog::thousandRequests),
            new Sample("ports", "Mach port leak hunted through a sysctl (port_tracer)",
                    LeakyPortInspectorKext.class, PortInspectorKext.class,
                    "Deallocate every name mach_thread_self() returns, because unlike the cached mach_task_self() "
                            + "each call adds a send-right reference and a thread that exits leaves it behind as a "
                            + "dead name, and unregister every sysctl OID a kext registered before stop returns, "
                            + "because an OID left behind keeps a handler that points into the unloaded kext.",
                    Sample.Outcome.FINDING, SampleCatalog::traceChromium));

    /**
     * The port-leak story: with the first-draft inspector (the rule-breaking kext) the leaking browser
     * runs, as in the article; with the balanced inspector (the twin) the fixed browser does.
     */
    private static void traceChromium(Kernel kernel, LoadedKext inspector) {
        boolean twin = inspector.kextClassName().equals(PortInspectorKext.class.getName());
        PortLeakStory.run(kernel, twin, PortLeakStory.TASKS);
    }

    /** Enough requests to see kalloc.48 grow in zprint, few enough for a demo. */
    private static void thousandRequests(Kernel kernel, LoadedKext kext) {
        kext.service(RequestService.class).handle(1000);
    }

    /** One session opened and closed by a client. */
    private static void openAndCloseASession(Kernel kernel, LoadedKext kext) {
        SessionTable sessions = kext.service(SessionTable.class);
        sessions.close(sessions.open());
    }

    /** A session opened and closed, then another one opened, which gets the freed element back. */
    private static void openCloseAndOpenAgain(Kernel kernel, LoadedKext kext) {
        SessionTable sessions = kext.service(SessionTable.class);
        sessions.close(sessions.open());
        sessions.open();
    }

    /** Eight 1000-byte reads through the driver's user client, which discards the data. */
    private static void readEightTimes(Kernel kernel, LoadedKext kext) {
        IOBufferDriver driver = kext.service(IOBufferDriver.class);
        for (int i = 0; i < 8; i++) {
            driver.read(1000, data -> { });
        }
    }

    private SampleCatalog() {
    }

    public static List<Sample> all() {
        return SAMPLES;
    }

    public static Optional<Sample> find(String name) {
        return SAMPLES.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
