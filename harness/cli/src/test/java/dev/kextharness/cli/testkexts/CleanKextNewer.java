package dev.kextharness.cli.testkexts;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

/** Another version of {@link CleanKext} under its bundle identifier: one kernel takes only one of them. */
@KextBundle(id = "com.example.clean", version = "2.1")
public class CleanKextNewer implements Kext {
    @Override
    public int start(KmodInfo ki, long d) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        return KernReturn.KERN_SUCCESS;
    }
}
