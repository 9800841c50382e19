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
 * A write after free: close frees the session first and marks it closed afterwards, writing into
 * an element the zone already holds as free. The harness stops at the write. Catalina's kalloc.48
 * has a per-CPU cache whose canary covers only an element's first and last words, so XNU never
 * notices this write to a middle word (an uncached zone would panic at the next allocation).
 */
@KextBundle(id = "dev.kextharness.samples.writeafterfree", version = "1.0")
public class WriteAfterFreeKext implements Kext, SessionTable {
    private static long current;

    @Override
    public int start(KmodInfo ki, long d) {
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        if (current != 0) {
            _FREE(current, M_TEMP);
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
        _FREE(session, M_TEMP);
        current = 0;
        store32(session + OFFSET_STATE, STATE_CLOSED); // too late: the session is freed memory now
        printf("session: closed %p\n", session);
    }
}
