package com.example.kexts;

/** What BalancedKext offers a test, through {@code LoadedKext.service(Counter.class)}. */
public interface Counter {

    /** Counts one event; the new count, or -1 if the kernel had no memory to record it. */
    long bump();
}
