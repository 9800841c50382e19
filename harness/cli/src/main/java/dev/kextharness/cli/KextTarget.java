package dev.kextharness.cli;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.KextSource;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kpi.Kext;
import dev.kextharness.samples.Sample;

/**
 * A kext the user named on the command line, ready to load into a kernel: a sample of the
 * catalog (or its balanced twin), a compiled class, or a class in a jar.
 *
 * @param name     what to call it in output: the sample name, the class name, the jar
 * @param sample   the catalog entry, or null for the user's own kext
 * @param twin     true for a sample's balanced twin
 * @param kext     the kext class, or null for a kext read from a jar
 * @param jar      the jar source, or null
 * @param exercise what to do with it between load and unload
 */
public record KextTarget(String name, Sample sample, boolean twin, Class<? extends Kext> kext, KextSource jar,
                  Sample.Exercise exercise) {

    static KextTarget sample(Sample sample, boolean twin) {
        return new KextTarget(twin ? sample.name() + " (twin)" : sample.name(), sample, twin,
                twin ? sample.twin() : sample.kext(), null, sample.exercise());
    }

    static KextTarget ofClass(Class<? extends Kext> kext) {
        return new KextTarget(kext.getName(), null, false, kext, null, Sample.Exercise.NOTHING);
    }

    static KextTarget ofJar(String name, KextSource jar) {
        return new KextTarget(name, null, false, null, jar, Sample.Exercise.NOTHING);
    }

    /** Loads, links and starts it. */
    LoadedKext load(Kernel kernel) {
        return kext != null ? kernel.kextload(kext) : kernel.kexts().load(jar);
    }

    /** The binary name of the kext class. */
    String className() {
        return kext != null ? kext.getName() : jar.kextClassName();
    }
}
