package dev.kextharness.cli.testkexts;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc._FREE;
import static dev.kextharness.kpi.Malloc._MALLOC;

/** A user's kext that balances its one allocation: {@code load} must exit 0. */
@KextBundle(id = "com.example.clean", version = "2.0")
public class CleanKext implements Kext {
    private static long buffer;

    @Override
    public int start(KmodInfo ki, long d) {
        buffer = _MALLOC(64, M_TEMP, M_WAITOK);
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        _FREE(buffer, M_TEMP);
        return KernReturn.KERN_SUCCESS;
    }
}
