package dev.kextharness.cli.testkexts;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/** A start routine that never returns: {@code load} must end in a watchdog panic, not hang. */
@KextBundle(id = "com.example.spin-start")
public class SpinningStartKext implements Kext {
    private static long spins;

    @Override
    public int start(KmodInfo ki, long d) {
        while (true) {
            spins++;
        }
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        return KernReturn.KERN_SUCCESS;
    }
}
