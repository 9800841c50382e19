package dev.kextharness.samples.ostag;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.Mem.load32;
import static dev.kextharness.kpi.Mem.load8;
import static dev.kextharness.kpi.OSMalloc.OSFree;
import static dev.kextharness.kpi.OSMalloc.OSMT_DEFAULT;
import static dev.kextharness.kpi.OSMalloc.OSMalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagfree;
import static dev.kextharness.kpi.Systm.printf;

/**
 * The OSMalloc demo balanced: stop OSFrees every block before OSMalloc_Tagfree drops the tag's
 * own reference, so the refcount reaches zero and the tag itself is freed; nothing touches the
 * tag after that.
 */
@KextBundle(id = "cn.junkman.kext-memleak", version = "1.1")
public class BalancedOSMallocTagKext implements Kext {
    private static long tag;
    private static long p;

    @Override
    public int start(KmodInfo ki, long d) {
        tag = OSMalloc_Tagalloc(OSMallocTagLeakKext.TAGNAME, OSMT_DEFAULT);
        if (tag == 0) {
            printf("kext-memleak: OSMalloc_Tagalloc failure\n");
            return KernReturn.KERN_FAILURE;
        }
        p = OSMalloc(1, tag);
        printf("kext-memleak: tag->OSMT_refcnt = %u\n",
                load32(tag + OSMallocTagLeakKext.SIZEOF_QUEUE_CHAIN_T));
        printf("kext-memleak: byte allocated %#llx %#x\n", p, load8(p));
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        OSFree(p, 1, tag);
        printf("kext-memleak: byte freed %#llx\n", p);
        // The last reference: the tag is unlinked and freed here, so it must not be used again.
        OSMalloc_Tagfree(tag);
        return KernReturn.KERN_SUCCESS;
    }
}
