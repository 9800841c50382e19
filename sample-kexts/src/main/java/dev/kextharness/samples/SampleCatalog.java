package dev.kextharness.samples;

import dev.kextharness.samples.memleak.BalancedMemleakKext;
import dev.kextharness.samples.memleak.MemleakKext;
import dev.kextharness.samples.ports.LeakyPortInspectorKext;
import dev.kextharness.samples.ports.PortInspectorKext;
import dev.kextharness.samples.ports.PortLeakStory;

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
            new Sample("ports", "Mach port leak hunted through a sysctl (port_tracer)",
                    LeakyPortInspectorKext.class, PortInspectorKext.class,
                    "A kext unregisters every sysctl OID it registered before stop returns: an OID left behind keeps "
                            + "a handler that points into the unloaded kext.",
                    Sample.Outcome.PANIC,
                    (kernel, kext) -> PortLeakStory.run(kernel, false, PortLeakStory.TASKS)));

    private SampleCatalog() {
    }

    public static List<Sample> all() {
        return SAMPLES;
    }

    public static Optional<Sample> find(String name) {
        return SAMPLES.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
