package dev.kextharness.bench.peers;

/**
 * The C peers' three workloads ({@code ../shared/peers/kleak_bench.c}), as a kext's service:
 * the same 64-bit LCG, size mix, sites and the 8-byte store per block, on {@code kalloc}/{@code
 * kfree}. Each returns the C program's checksum, which depends only on the LCG stream, so a run
 * proves it did the same operations as the C build.
 */
public interface PeerWorkloads {
    /** The working set of W2. */
    int WS = 100_000;
    /** Blocks W2 keeps (leaks) per allocation site at the end. */
    int KEEP_PER_SITE = 500;

    /**
     * W1: {@code n} kalloc/kfree pairs (size from the mix, the first 8 bytes written before the
     * free), then 1000 blocks of 48 bytes leaked from three sites (334 + 333 + 333).
     *
     * @param touchAll also memset every byte of each block (the C touch-all build)
     */
    long pairs(long n, boolean touchAll);

    /**
     * W2: a working set of {@link #WS} live blocks from two sites; {@code n} operations each free a
     * random live block and allocate one of a random size; then all freed but 500 per site.
     */
    long churn(long n, boolean touchAll);

    /** W3: {@code n} blocks of 48 bytes from one site, never freed. */
    long leakstorm(long n, boolean touchAll);

    /**
     * Bulk operations on two kalloc blocks of {@code size} bytes: {@code rounds} memsets of the
     * first (a new value each round), or, with {@code copy}, one memset and then {@code rounds}
     * bcopies of it into the second (every destination page gets bytes of its own). Frees both.
     */
    void bulk(long size, int rounds, boolean copy);

    /** kalloc and kfree calls made by the last workload (the C program's {@code ops}). */
    long operations();
}
