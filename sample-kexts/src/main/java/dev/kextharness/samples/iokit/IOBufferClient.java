package dev.kextharness.samples.iokit;

/**
 * The user-space side of an {@link IOBufferDriver}: what its user client hands completed reads to.
 * In a real driver this is the copyout to the calling process; here a test supplies it.
 */
@FunctionalInterface
public interface IOBufferClient {

    /** A read finished: {@code data} holds the bytes the device produced, copied out of the driver's buffer. */
    void readCompleted(byte[] data);
}
