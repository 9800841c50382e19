package dev.kextharness.kernel.report;

/**
 * IOKit's allocation counters, the {@code IOKitDiagnostics} values ioalloccount prints. Bytes;
 * a counter driven below zero (a free larger than its allocation) is printed as the unsigned
 * 64-bit value it becomes, as the kernel serializes it.
 *
 * @param instance  {@code debug_ivars_size}: OSObject instances ("Instance allocation")
 * @param container {@code debug_container_malloc_size}: collection storage ("Container allocation")
 * @param ioMalloc  {@code debug_iomalloc_size}: IOMalloc and friends ("IOMalloc allocation")
 * @param pageable  {@code debug_iomallocpageable_size}: IOMallocPageable ("Pageable allocation")
 *
 * <p>Stability: stable.
 */
public record IoAllocCounters(long instance, long container, long ioMalloc, long pageable) {
}
