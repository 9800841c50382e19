package dev.kextharness.kernel.osmalloc;

import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * OSMalloc with refcounted tags (osfmk/kern/kalloc.c of xnu-6153). A tag is a real
 * {@code struct _OSMallocTag_} in simulated memory (a kalloc.96 element): its refcount and state
 * words are read and written there, so a kext that peeks at {@code tag->OSMT_refcnt} sees what
 * the C would, and a tag used after it was freed reads as poison and panics with a bad state.
 */
public final class OSMallocTags {
    public static final int OSMT_PAGEABLE = 0x01;
    public static final long OSMT_VALID_MASK = 0xFFFF0000L;
    public static final long OSMT_VALID = 0xDEAB0000L;
    public static final long OSMT_RELEASED = 0x00000001L;
    public static final int OSMT_MAX_NAME = 64;

    /** Field offsets in {@code struct _OSMallocTag_} (LP64): a queue link, then three u32, then the name. */
    public static final int OFFSET_REFCNT = 16;
    public static final int OFFSET_STATE = 20;
    public static final int OFFSET_ATTR = 24;
    public static final int OFFSET_NAME = 28;
    /** {@code sizeof(struct _OSMallocTag_)} = 92, so a tag is a kalloc.96 element. */
    public static final int TAG_SIZE = OFFSET_NAME + OSMT_MAX_NAME;

    private final Kalloc kalloc;
    private final VmMap kernelMap;
    private final SparseMemory memory;
    private final Ledger ledger;
    private final Panicker panicker;
    /** The kernel's own site for freeing a tag whose refcount reached zero. */
    private final int tagFreeSite;
    /** {@code OSMalloc_tag_list}. */
    private final Set<Long> tags = new LinkedHashSet<>();
    /** Who allocated and who released each tag (kept after the tag is freed, until its address is reused). */
    private final java.util.Map<Long, TagHistory> history = new java.util.HashMap<>();

    /** A tag's name, its {@code OSMalloc_Tagalloc} site and its {@code OSMalloc_Tagfree} site (-1 until released). */
    private record TagHistory(String name, int allocSite, int releaseSite) {
    }

    public OSMallocTags(Kalloc kalloc, VmMap kernelMap, SparseMemory memory, Ledger ledger, Panicker panicker,
                        int tagFreeSite) {
        this.kalloc = kalloc;
        this.kernelMap = kernelMap;
        this.memory = memory;
        this.ledger = ledger;
        this.panicker = panicker;
        this.tagFreeSite = tagFreeSite;
    }

    /** {@code OSMalloc_Tagalloc(name, flags)}: refcount 1, state VALID. */
    public synchronized long tagalloc(String name, int flags, int site) {
        long tag = kalloc.kalloc(TAG_SIZE, true, site);
        memory.fill(tag, TAG_SIZE, 0);
        if ((flags & OSMT_PAGEABLE) != 0) {
            memory.store(tag + OFFSET_ATTR, 4, OSMT_PAGEABLE);
        }
        memory.store(tag + OFFSET_REFCNT, 4, 1);
        byte[] bytes = (name == null ? "" : name).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int n = Math.min(bytes.length, OSMT_MAX_NAME - 1);
        for (int i = 0; i < n; i++) {
            memory.store8(tag + OFFSET_NAME + i, bytes[i]);
        }
        tags.add(tag);
        history.put(tag, new TagHistory(name(tag), site, -1));
        memory.store(tag + OFFSET_STATE, 4, OSMT_VALID);
        return tag;
    }

    /** {@code OSMalloc_Tagfree(tag)}: VALID to VALID|RELEASED, then drops the tag's own reference. */
    public synchronized void tagfree(long tag, int site) {
        long state = state(tag);
        if (state != OSMT_VALID) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 988, site, CFormat.format(
                    "OSMalloc_Tagfree():'%s' has bad state 0x%08X \n", name(tag), state));
        }
        memory.store(tag + OFFSET_STATE, 4, OSMT_VALID | OSMT_RELEASED);
        history.computeIfPresent(tag, (t, h) -> new TagHistory(h.name(), h.allocSite(), site));
        long refcnt = (refcnt(tag) - 1) & 0xFFFFFFFFL;
        memory.store(tag + OFFSET_REFCNT, 4, refcnt);
        if (refcnt == 0) {
            release(tag);
        }
    }

    /**
     * The harness's check of the tag an {@code OSMalloc} or {@code OSFree} names: an allocation
     * with a tag its owner has released (XNU takes it silently while blocks keep the tag alive) is
     * a finding; either call with a tag already freed is a use after free, reported with the tag's
     * allocation and release.
     */
    private void checkTagInUse(String function, long tag, int site) {
        TagHistory h = history.get(tag);
        if (!ledger.findingsEnabled() || h == null || h.releaseSite() < 0) {
            return;
        }
        String sites = "released by OSMalloc_Tagfree at " + ledger.site(h.releaseSite()).location()
                + "; allocated by OSMalloc_Tagalloc at " + ledger.site(h.allocSite()).location();
        if (!tags.contains(tag)) {
            throw panicker.harness(site, CFormat.format("use after free: %s with the freed tag %p ('%s'); accessed at %s; ",
                            function, tag, h.name(), ledger.site(site).location()) + sites,
                    "Catalina would read the freed kalloc.96 element as a tag: its state reads as poison, so "
                            + "OSMalloc_Tagref panics \"has bad state\", unless the element was reused. "
                            + "The harness stops at the call.");
        }
        if (!function.equals("OSMalloc")) {
            return; // OSFree after Tagfree is how the last blocks give the tag back: XNU's design
        }
        ledger.report(new Finding(Finding.Kind.RELEASED_TAG, ledger.site(site), tag, CFormat.format(
                "%s with tag '%s' after its owner released it (%s). Real XNU accepts it silently while blocks keep "
                        + "the tag alive; allocate only with a tag you hold.",
                function, h.name(), sites)));
    }

    /** {@code OSMalloc(size, tag)} and, with {@code canBlock} false, {@code OSMalloc_noblock/nowait}. */
    public long osmalloc(int size, long tag, boolean canBlock, int site) {
        long usize = size & 0xFFFFFFFFL;
        checkTagInUse("OSMalloc", tag, site);
        boolean pageable = isPageable(tag);
        if (!canBlock && pageable) {
            return 0;
        }
        tagref(tag, site);
        long addr;
        if (pageable && (usize & ~AddressSpace.PAGE_MASK) != 0) {
            VmMap.Entry entry = kernelMap.allocate(usize, 0, VmMap.Kind.PAGEABLE, usize, site, tag);
            addr = entry == null ? 0 : entry.start;
            if (entry != null) {
                ledger.allocated(site, usize);
            }
        } else {
            addr = kalloc.kalloc(usize, canBlock, site, tag);
        }
        if (addr == 0) {
            tagrele(tag, site);
        }
        return addr;
    }

    /** {@code OSFree(addr, size, tag)}: kfree (or kmem_free for pageable pages), then drops a tag reference. */
    public void osfree(long addr, int size, long tag, int site) {
        long usize = size & 0xFFFFFFFFL;
        checkTagInUse("OSFree", tag, site);
        if (isPageable(tag) && usize >= AddressSpace.PAGE_SIZE) {
            VmMap.Entry entry = kernelMap.entryAt(addr);
            if (entry != null && entry.kind == VmMap.Kind.PAGEABLE && !kernelMap.remove(entry)) {
                entry = null; // another thread freed it first
            }
            if (entry == null || entry.kind != VmMap.Kind.PAGEABLE) {
                ledger.report(new Finding(Finding.Kind.LARGE_FREE_MISMATCH, ledger.site(site), addr, CFormat.format(
                        "OSFree(%p, %u) with a pageable tag frees no pageable block: real XNU's kmem_free "
                                + "unmaps the range silently.", addr, usize)));
            } else {
                checkTag(entry.aux, tag, addr, site);
                memory.discard(entry.start, entry.size);
                ledger.freed(entry.site, entry.requested);
            }
        } else {
            if (addr != 0) {
                checkTag(kalloc.auxOf(addr), tag, addr, site);
            }
            kalloc.kfree(addr, usize, site);
        }
        tagrele(tag, site);
    }

    private void checkTag(long allocatedWith, long tag, long addr, int site) {
        if (allocatedWith != 0 && allocatedWith != tag && ledger.findingsEnabled()) {
            ledger.report(new Finding(Finding.Kind.TAG_MISMATCH, ledger.site(site), addr, CFormat.format(
                    "OSFree(%p) names tag '%s' but the block was allocated with tag '%s'. Real XNU stays silent "
                            + "and the two tags' refcounts go wrong.", addr, name(tag), name(allocatedWith))));
        }
    }

    /** {@code OSMalloc_Tagref}: panics on a bad state, then refcount + 1. */
    synchronized void tagref(long tag, int site) {
        long state = state(tag);
        if ((state & OSMT_VALID_MASK) != OSMT_VALID) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 957, site, CFormat.format(
                    "OSMalloc_Tagref():'%s' has bad state 0x%08X\n", name(tag), state));
        }
        memory.store(tag + OFFSET_REFCNT, 4, refcnt(tag) + 1);
    }

    /** {@code OSMalloc_Tagrele}: the same state check (and message) as Tagref, then refcount - 1. */
    synchronized void tagrele(long tag, int site) {
        long state = state(tag);
        if ((state & OSMT_VALID_MASK) != OSMT_VALID) {
            throw panicker.kernel("osfmk/kern/kalloc.c", 968, site, CFormat.format(
                    "OSMalloc_Tagref():'%s' has bad state 0x%08X\n", name(tag), state));
        }
        long refcnt = (refcnt(tag) - 1) & 0xFFFFFFFFL;
        memory.store(tag + OFFSET_REFCNT, 4, refcnt);
        if (refcnt == 0) {
            if (state == (OSMT_VALID | OSMT_RELEASED)) {
                release(tag);
            } else {
                throw panicker.kernel("osfmk/kern/kalloc.c", 978, site, CFormat.format(
                        "OSMalloc_Tagrele():'%s' has refcnt 0\n", name(tag)));
            }
        }
    }

    private void release(long tag) {
        tags.remove(tag);
        kalloc.kfree(tag, TAG_SIZE, tagFreeSite);
    }

    public long refcnt(long tag) {
        return memory.load(tag + OFFSET_REFCNT, 4);
    }

    public long state(long tag) {
        return memory.load(tag + OFFSET_STATE, 4);
    }

    public boolean isPageable(long tag) {
        return (memory.load(tag + OFFSET_ATTR, 4) & OSMT_PAGEABLE) != 0;
    }

    /** The tag's name as stored in its structure. */
    public String name(long tag) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < OSMT_MAX_NAME; i++) {
            int c = memory.load8(tag + OFFSET_NAME + i);
            if (c == 0) {
                break;
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    /** Tags on {@code OSMalloc_tag_list} (allocated and not yet freed), oldest first. */
    public synchronized List<Long> liveTags() {
        return new ArrayList<>(tags);
    }
}
