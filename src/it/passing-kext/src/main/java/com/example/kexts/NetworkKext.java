package com.example.kexts;

import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.IOLib.IOFree;
import static dev.kextharness.kpi.IOLib.IOMalloc;
import static dev.kextharness.kpi.KernReturn.KERN_RESOURCE_SHORTAGE;
import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.OSMalloc.OSFree;
import static dev.kextharness.kpi.OSMalloc.OSMT_DEFAULT;
import static dev.kextharness.kpi.OSMalloc.OSMalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagalloc;
import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagfree;

/** Three allocations at start; each failure unwinds exactly what was taken before it. */
@KextBundle(id = "com.example.kext-network", version = "1.0")
public class NetworkKext implements Kext {
    private static final int RING_SIZE = 4096;
    private static final int STATS_SIZE = 64;
    private static long tag;
    private static long ring;
    private static long stats;

    @Override
    public int start(KmodInfo ki, long d) {
        tag = OSMalloc_Tagalloc("com.example.kext-network", OSMT_DEFAULT);
        if (tag == 0) {
            return KERN_RESOURCE_SHORTAGE;
        }
        ring = OSMalloc(RING_SIZE, tag);
        if (ring == 0) {
            OSMalloc_Tagfree(tag);
            return KERN_RESOURCE_SHORTAGE;
        }
        stats = IOMalloc(STATS_SIZE);
        if (stats == 0) {
            OSFree(ring, RING_SIZE, tag);
            OSMalloc_Tagfree(tag);
            return KERN_RESOURCE_SHORTAGE;
        }
        return KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        IOFree(stats, STATS_SIZE);
        OSFree(ring, RING_SIZE, tag);
        OSMalloc_Tagfree(tag);
        return KERN_SUCCESS;
    }
}
