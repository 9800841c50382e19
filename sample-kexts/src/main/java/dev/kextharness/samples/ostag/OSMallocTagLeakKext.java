package dev.kextharness.samples.ostag;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Mem.load32;
import static dev.kextharness.kpi.Mem.load8;
import static dev.kextharness.kpi.OSMalloc.OSMT_DEFAULT;
import static dev.kextharness.kpi.OSMalloc.OSMalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagfree;
import static dev.kextharness.kpi.Systm.printf;

/**
 * The source article's OSMalloc leak: stop calls OSMalloc_Tagfree but never OSFree, so the tag's
 * refcount stays above zero, the tag lingers, and an OSMalloc after Tagfree still succeeds.
 */
@KextBundle(id = "cn.junkman.kext-memleak", version = "1.0")
public class OSMallocTagLeakKext implements Kext {
    /** {@code sizeof(queue_chain_t)}: the tag's queue link (two pointers) comes before OSMT_refcnt. */
    static final int SIZEOF_QUEUE_CHAIN_T = 16;
    static final String TAGNAME = "f2fc2611-07b1-4a30-af82-3459596b64cb";

    private static long tag;
    private static long p;

    @Override
    public int start(KmodInfo ki, long d) {
        tag = OSMalloc_Tagalloc(TAGNAME, OSMT_DEFAULT);
        if (tag == 0) {
            printf("kext-memleak: OSMalloc_Tagalloc failure\n");
            return KernReturn.KERN_FAILURE;
        }
        p = OSMalloc(1, tag);

        // After OSMalloc_Tagalloc and OSMalloc, tag->OSMT_refcnt equals two.
        long tagRefcnt = load32(tag + SIZEOF_QUEUE_CHAIN_T);
        if (tagRefcnt != 2) {
            printf("kext-memleak: tag->OSMT_refcnt != 2 due to struct alignment\n");
        } else {
            printf("kext-memleak: tag->OSMT_refcnt = 2\n");
        }

        printf("kext-memleak: byte allocated %#llx %#x\n", p, load8(p));
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        // Say, you forget to OSFree p: the tag is not freed, its OSMT_refcnt does not reach zero.
        OSMalloc_Tagfree(tag);

        printf("kext-memleak: #1 byte leaked %#llx %#x\n", p, load8(p));

        // OSMalloc succeeds: the tag is still alive.
        long q = OSMalloc(1, tag);
        printf("kext-memleak: #2 byte leaked %#llx %#x\n", q, load8(q));

        return KernReturn.KERN_SUCCESS;
    }
}
