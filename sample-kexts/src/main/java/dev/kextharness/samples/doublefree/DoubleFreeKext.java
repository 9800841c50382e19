package dev.kextharness.samples.doublefree;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Malloc.M_TEMP;
import static dev.kextharness.kpi.Malloc.M_WAITOK;
import static dev.kextharness.kpi.Malloc.M_ZERO;
import static dev.kextharness.kpi.Malloc._FREE;
import static dev.kextharness.kpi.Malloc._MALLOC;
import static dev.kextharness.kpi.Mem.store32;
import static dev.kextharness.kpi.Systm.printf;

/**
 * A double free: close frees the session but leaves the kext's pointer to it, so stop, which frees
 * a session that is still open, frees it a second time.
 */
@KextBundle(id = "dev.kextharness.samples.doublefree", version = "1.0")
public class DoubleFreeKext implements Kext, SessionTable {
    private static long current;

    @Override
    public int start(KmodInfo ki, long d) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        if (current != 0) {
            printf("session: freeing open session %p\n", current);
            _FREE(current, M_TEMP); // the second free: close already freed it
        }
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public long open() {
        long session = _MALLOC(SIZEOF_SESSION, M_TEMP, M_WAITOK | M_ZERO);
        store32(session + OFFSET_STATE, STATE_OPEN);
        current = session;
        printf("session: opened %p\n", session);
        return session;
    }

    @Override
    public void close(long session) {
        store32(session + OFFSET_STATE, STATE_CLOSED);
        _FREE(session, M_TEMP);
        printf("session: closed %p\n", session);
        // Forgets current = 0: the pointer now dangles.
    }
}
