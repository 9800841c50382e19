package dev.kextharness.kernel.ledger;

import dev.kextharness.kernel.printf.CFormat;

/**
 * The rules and messages of the harness's findings about frees that XNU accepts silently: a block
 * freed by another family's function, and a free that passes another size than the one allocated.
 * Every allocator asks here, so that one kind of misuse reads the same whichever path found it.
 * Nothing is checked when findings are off.
 */
public final class FreeFindings {

    private FreeFindings() {
    }

    /**
     * A free of a zone element or a kalloc block ({@code kfree}, {@code _FREE}, {@code OSFree},
     * {@code IOFree}...): the family first, then, when the free names a size ({@code freedSize >= 0})
     * and a bucket, that the size is the one allocated. Padded families (their kfree passes the
     * padded size) are left to {@link #paddedSize}.
     *
     * @param bucket the kalloc zone both sizes fall in, or null for a large block (checked by kalloc itself)
     */
    public static void kfree(Ledger ledger, int allocSite, int freeSite, long addr, long requested, long freedSize,
                             String bucket) {
        if (!ledger.findingsEnabled()) {
            return;
        }
        if (!ledger.sameFamily(allocSite, freeSite)) {
            crossFamily(ledger, allocSite, freeSite, addr,
                    "Real XNU stays silent (both end in kfree), but the pairing is wrong and breaks on other kernels.");
        } else if (freedSize >= 0 && freedSize != requested && bucket != null && !ledger.family(freeSite).padded()) {
            CallSite alloc = ledger.site(allocSite);
            CallSite free = ledger.site(freeSite);
            ledger.report(new Finding(Finding.Kind.SIZE_MISMATCH, free, addr, CFormat.format(
                    "%s(%p, %lu) frees a %lu-byte allocation made by %s at %s. Real XNU accepts it silently "
                            + "(both sizes fall in %s), but the size must be the one allocated.",
                    free.function(), addr, freedSize, requested, alloc.function(), alloc.location(), bucket),
                    java.util.List.of(alloc)));
        }
    }

    /** A free of whole pages (IOKit's {@code kmem_free} paths): the family only; see {@link #pageSize}. */
    public static void pages(Ledger ledger, int allocSite, int freeSite, long addr) {
        if (ledger.findingsEnabled() && !ledger.sameFamily(allocSite, freeSite)) {
            crossFamily(ledger, allocSite, freeSite, addr, "Real XNU stays silent.");
        }
    }

    /** A page free whose caller passed {@code passedSize} for a block allocated with {@code requested} bytes at {@code allocSite}. */
    public static void pageSize(Ledger ledger, String function, int freeSite, long addr, long passedSize,
                                long requested, int allocSite) {
        if (ledger.findingsEnabled() && passedSize != requested) {
            ledger.report(new Finding(Finding.Kind.SIZE_MISMATCH, ledger.site(freeSite), addr, CFormat.format(
                    "%s(%p, %lu) frees a %lu-byte allocation made at %s; real XNU frees by the size you pass, silently. "
                            + "Pass the size you allocated.", function, addr, passedSize, requested,
                    ledger.site(allocSite).location()), java.util.List.of(ledger.site(allocSite))));
        }
    }

    /**
     * A free of a header-padded IOKit block ({@code IOFreeAligned}, {@code IOFreeContiguous}) whose
     * caller passed {@code passedSize} for a block allocated with {@code requested} bytes.
     */
    public static void paddedSize(Ledger ledger, String function, int freeSite, long allocation, long passedSize,
                                  long requested) {
        if (ledger.findingsEnabled() && requested != 0 && passedSize != requested) {
            ledger.report(new Finding(Finding.Kind.SIZE_MISMATCH, ledger.site(freeSite), allocation, CFormat.format(
                    "%s(..., %lu) frees a block allocated with size %lu. Real XNU re-derives the block from the "
                            + "size you pass and stays silent while both land in the same place; pass the size you allocated.",
                    function, passedSize, requested)));
        }
    }

    private static void crossFamily(Ledger ledger, int allocSite, int freeSite, long addr, String xnu) {
        CallSite alloc = ledger.site(allocSite);
        CallSite free = ledger.site(freeSite);
        ledger.report(new Finding(Finding.Kind.CROSS_FAMILY_FREE, free, addr, CFormat.format(
                "%s(%p) frees memory allocated by %s at %s; free it with %s. ",
                free.function(), addr, alloc.function(), alloc.location(), alloc.family().deallocator()) + xnu,
                java.util.List.of(alloc)));
    }
}
