package dev.kextharness.samples.iokit;

/**
 * The service an IOKit buffer driver offers its user client: reads of up to
 * {@link #MAX_TRANSFER} bytes, each staged in an IOMalloc'ed bounce buffer before the bytes are
 * handed to the client. Returns {@code IOReturn} codes, as an external method does.
 */
public interface IOBufferDriver {
    /** {@code kIOReturnSuccess}. */
    int kIOReturnSuccess = 0;
    /** {@code kIOReturnNoMemory}: {@code iokit_common_err(0x2bd)}. */
    int kIOReturnNoMemory = 0xe00002bd;
    /** {@code kIOReturnBadArgument}: {@code iokit_common_err(0x2c2)}. */
    int kIOReturnBadArgument = 0xe00002c2;
    /** The largest read the driver accepts. */
    int MAX_TRANSFER = 64 * 1024;

    /** Reads {@code length} bytes from the device and passes them to {@code client}; returns an IOReturn. */
    int read(int length, IOBufferClient client);
}
