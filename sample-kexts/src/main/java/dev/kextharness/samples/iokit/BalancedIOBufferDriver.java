package dev.kextharness.samples.iokit;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.IOLib.IOFree;
import static dev.kextharness.kpi.IOLib.IOLog;
import static dev.kextharness.kpi.IOLib.IOMalloc;
import static dev.kextharness.kpi.Libkern.memset;
import static dev.kextharness.samples.iokit.Copyout.copyout;

/** The buffer driver balanced: every bounce buffer is IOFreed, with the size it was IOMalloc'ed with. */
@KextBundle(id = "dev.kextharness.samples.iobuffer", version = "1.1")
public class BalancedIOBufferDriver implements Kext, IOBufferDriver {
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
        memset(buffer, reads, length);
        IOLog("IOBufferDriver: read %d bytes into %p\n", length, buffer);
        try {
            client.readCompleted(copyout(buffer, length));
        } finally {
            // Freed even if the client throws: IOFree needs the size that was allocated.
            IOFree(buffer, length);
        }
        return kIOReturnSuccess;
    }
}
