package dev.kextharness.samples.slowleak;

/**
 * What a user-space client reaches in the slowleak kexts: their request entry point. It takes a
 * batch, so that a soak can drive millions of requests without one interface call per request.
 * The {@code soak} command drives any kext whose service interface declares {@code handle(int)}.
 */
public interface RequestService {

    /** Handles {@code requests} requests, one after another. */
    void handle(int requests);

    /** Requests handled since the kext started. */
    long handled();
}
