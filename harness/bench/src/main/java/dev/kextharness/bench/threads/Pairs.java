package dev.kextharness.bench.threads;

/** What {@link PairsKext} offers {@link dev.kextharness.bench.ThreadsBenchmark}: work on the caller's own blocks. */
public interface Pairs {
    /**
     * Keeps {@link PairsKext#LIVE} blocks of its own, then {@code pairs} times kfrees the oldest and
     * kallocs the next size in its place (16..1024 bytes, an 8-byte store in each), then frees them
     * all. Nothing is shared between calls, so calls from several threads do disjoint work.
     *
     * @return the last block's stored word (keeps the work observable)
     */
    long run(long seed, int pairs);
}
