package dev.kextharness.samples.doublefree;

/**
 * What a session kext offers its clients: sessions whose state lives in a 48-byte kernel structure
 * (a kalloc.48 element): a word of flags, then the state at {@link #OFFSET_STATE}.
 */
public interface SessionTable {
    /** {@code sizeof(struct session)}. */
    int SIZEOF_SESSION = 48;
    /** {@code offsetof(struct session, state)}. */
    int OFFSET_STATE = 8;
    int STATE_OPEN = 1;
    int STATE_CLOSED = 2;

    /** Opens a session; returns its handle, the kernel address of its structure. */
    long open();

    /** Closes a session opened by {@link #open}. */
    void close(long session);
}
