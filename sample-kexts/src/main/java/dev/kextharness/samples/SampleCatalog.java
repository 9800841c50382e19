package dev.kextharness.samples;

import dev.kextharness.samples.libkext.BalancedLibkextKext;
import dev.kextharness.samples.libkext.LibkextMemleakKext;
import dev.kextharness.samples.memleak.BalancedMemleakKext;
import dev.kextharness.samples.memleak.MemleakKext;
import dev.kextharness.samples.ostag.BalancedOSMallocTagKext;
import dev.kextharness.samples.ostag.OSMallocTagLeakKext;

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
                    Sample.Outcome.PANIC, Sample.Exercise.NOTHING));

    private SampleCatalog() {
    }

    public static List<Sample> all() {
        return SAMPLES;
    }

    public static Optional<Sample> find(String name) {
        return SAMPLES.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
