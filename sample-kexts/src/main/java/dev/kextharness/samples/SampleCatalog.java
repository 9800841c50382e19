package dev.kextharness.samples;

import dev.kextharness.samples.memleak.BalancedMemleakKext;
import dev.kextharness.samples.memleak.MemleakKext;
import dev.kextharness.samples.slowleak.BalancedSlowLeakKext;
import dev.kextharness.samples.slowleak.RequestService;
import dev.kextharness.samples.slowleak.SlowLeakKext;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;

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
            new Sample("slowleak", "a slow kalloc.48 leak on every request (the 10.15.6 regression)",
                    SlowLeakKext.class, BalancedSlowLeakKext.class,
                    "Every kalloc a request makes needs its kfree when the request completes: a few bytes "
                            + "per request add up until the zone map runs out.",
                    Sample.Outcome.PANIC, SampleCatalog::thousandRequests));

    /** Enough requests to see kalloc.48 grow in zprint, few enough for a demo. */
    private static void thousandRequests(Kernel kernel, LoadedKext kext) {
        kext.service(RequestService.class).handle(1000);
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
