package dev.kextharness.samples;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kpi.Kext;

/**
 * One lesson of the tour: a kext that breaks a balance rule, its balanced twin, and how to
 * exercise either between load and unload. The demo, {@code load <name>} and the teaching guide
 * all read samples from {@link SampleCatalog}, so a sample is described once.
 *
 * @param name     short command-line name, e.g. {@code memleak}
 * @param title    one line for headings and the summary table
 * @param kext     the kext that breaks the rule
 * @param twin     the balanced twin, which must unload clean
 * @param rule     one sentence naming the balance rule the kext breaks
 * @param expected what unloading {@code kext} ends in
 * @param exercise what to do with a loaded kext (of either kind) before it is unloaded
 */
public record Sample(
        String name,
        String title,
        Class<? extends Kext> kext,
        Class<? extends Kext> twin,
        String rule,
        Outcome expected,
        Exercise exercise) {

    /**
     * What unloading the rule-breaking kext ends in under the default leak policy: loaded into a
     * kernel booted with {@code KernelConfig.defaults()} ({@code LeakPolicy.PANIC}, findings on),
     * exercised, then unloaded.
     */
    public enum Outcome {
        /** Allocations left outstanding and reported without a panic ({@code KextLeakError}). */
        LEAK,
        /**
         * The kernel panics: an XNU check, the kext's own {@code panic()}, or the harness's verdict on
         * allocations left outstanding (a panic string starting {@code KEXT LEAK: }).
         */
        PANIC,
        /**
         * Nothing left outstanding, but misuse XNU lets pass silently; under {@code LeakPolicy.PANIC}
         * the verdict is a panic whose string starts {@code KEXT FINDINGS: }.
         */
        FINDING,
        /** Unloads with nothing outstanding and no findings. */
        CLEAN
    }

    /** Drives a loaded kext through its service interface, as a user-space client would. */
    @FunctionalInterface
    public interface Exercise {
        Exercise NOTHING = (kernel, kext) -> { };

        void run(Kernel kernel, LoadedKext kext);
    }
}
