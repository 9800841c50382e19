package dev.kextharness.samples.rogue;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.samples.ostag.OSMallocTagLeakKext;

import java.lang.reflect.Method;

/** A helper that breaks every dependency rule for sample kext packages, to show the rule can fail. */
public final class RogueSampleHelper {
    private RogueSampleHelper() {
    }

    static Object reachEverywhere(Kernel kernel, Method method) {
        return kernel.toString() + method.getName() + OSMallocTagLeakKext.class.getName();
    }
}
