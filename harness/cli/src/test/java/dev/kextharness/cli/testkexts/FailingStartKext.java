package dev.kextharness.cli.testkexts;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/** A kext whose start fails without allocating: {@code load} must report a load failure. */
@KextBundle(id = "com.example.failing-start")
public class FailingStartKext implements Kext {

    @Override
    public int start(KmodInfo ki, long d) {
        return KernReturn.KERN_FAILURE;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        return KernReturn.KERN_SUCCESS;
    }
}
