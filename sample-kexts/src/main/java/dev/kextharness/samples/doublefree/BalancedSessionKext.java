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
 * The session kext balanced: close finishes with the session before freeing it and forgets the
 * pointer as it frees, so each session is freed exactly once and never touched afterwards.
 */
@KextBundle(id = "dev.kextharness.samples.doublefree", version = "1.1")
public class BalancedSessionKext implements Kext, SessionTable {
    private static long current;

    @Override
    public int start(KmodInfo ki, long d) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        if (current != 0) {
            printf("session: freeing open session %p\n", current);
            _FREE(current, M_TEMP);
            current = 0;
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
        if (current == session) {
            current = 0;
        }
        _FREE(session, M_TEMP);
        printf("session: closed %p\n", session);
    }
}
