package dev.kextharness.samples.iokit;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.IOLib.IOLog;
import static dev.kextharness.kpi.IOLib.IOMalloc;
import static dev.kextharness.kpi.Libkern.memset;
import static dev.kextharness.samples.iokit.Copyout.copyout;

/**
 * An IOKit driver that stages every read in an IOMalloc'ed bounce buffer and never IOFrees it:
 * each request leaks one kalloc element, which zprint shows as a growing zone and ioalloccount as a
 * growing "IOMalloc allocation", the way the XNU allocators article walks a driver leak.
 */
@KextBundle(id = "dev.kextharness.samples.iobuffer", version = "1.0")
public class LeakyIOBufferDriver implements Kext, IOBufferDriver {
    private int reads;

    @Override
    public int start(KmodInfo ki, long d) {
        IOLog("IOBufferDriver: started\n");
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int stop(KmodInfo ki, long d) {
        IOLog("IOBufferDriver: stopped after %d reads\n", reads);
        return KernReturn.KERN_SUCCESS;
    }

    @Override
    public int read(int length, IOBufferClient client) {
        if (length <= 0 || length > MAX_TRANSFER) {
            return kIOReturnBadArgument;
        }
        long buffer = IOMalloc(length);
        if (buffer == 0) {
            return kIOReturnNoMemory;
        }
        reads++;
        // The device fills the buffer: read number n yields n in every byte.
        memset(buffer, reads, length);
        IOLog("IOBufferDriver: read %d bytes into %p\n", length, buffer);
        client.readCompleted(copyout(buffer, length));
        // The bounce buffer is done with, but nobody calls IOFree(buffer, length).
        return kIOReturnSuccess;
    }
}
