package dev.kextharness.bench.ring;

/**
 * What {@link RingKext} offers {@link dev.kextharness.bench.KextKallocBenchmark}: the ring workload
 * of {@code KallocBenchmark}, run by kext code through the linked {@code kalloc}/{@code kfree}.
 * Each call does many pairs, so that the cost of calling into the kext is spread over them.
 */
public interface KallocRing {

    /**
     * kallocs the ring's first blocks, one for each of the first {@code live} sizes.
     *
     * @param sizes the size sequence (a power-of-two length, longer than the ring)
     * @param live  how many blocks the ring keeps live (a power of two)
     * @return false if a kalloc returned NULL (the ring is then drained again)
     */
    boolean fill(int[] sizes, int live);

    /** {@code pairs} times: kfree the oldest block, kalloc the next size in its place. Returns the last address. */
    long run(int pairs);

    /** The address of the block in ring slot {@code slot}. */
    long block(int slot);

    /** The size the ring's next kalloc will ask for. */
    int nextSize();
}
