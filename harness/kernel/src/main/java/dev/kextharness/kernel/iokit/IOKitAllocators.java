package dev.kextharness.kernel.iokit;

import java.util.concurrent.atomic.AtomicLong;

import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.FreeFindings;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;

/**
 * The IOKit allocators of xnu-6153 (iokit/Kernel/IOLib.cpp, RELEASE build): IOMalloc is kalloc,
 * IOFree is kfree with the same size; the aligned and contiguous variants keep a 16-byte header
 * ({@code allocationSize, allocationAddress}) in memory just before the pointer they return, or
 * take whole pages; pageable memory comes from IOKit's pageable maps. The debug counters are the
 * ones ioalloccount prints.
 */
public final class IOKitAllocators {
    /** {@code sizeof(IOLibPageMallocHeader)} on RELEASE: two words. */
    static final long HEADER = 16;
    /** {@code kIOPageableMapSize}. */
    static final long PAGEABLE_MAP_SIZE = 512L << 20;

    private final Kalloc kalloc;
    private final VmMap kernelMap;
    private final SparseMemory memory;
    private final Ledger ledger;
    private final Panicker panicker;

    // debug_iomalloc_size and friends: XNU updates them with OSAddAtomic, from any thread.
    private final AtomicLong instanceAllocation = new AtomicLong();
    private final AtomicLong containerAllocation = new AtomicLong();
    private final AtomicLong iomallocAllocation = new AtomicLong();
    private final AtomicLong pageableAllocation = new AtomicLong();
    private final AtomicLong nextPhysical = new AtomicLong(0x10000000L);

    public IOKitAllocators(Kalloc kalloc, VmMap kernelMap, SparseMemory memory, Ledger ledger, Panicker panicker) {
        this.kalloc = kalloc;
        this.kernelMap = kernelMap;
        this.memory = memory;
        this.ledger = ledger;
        this.panicker = panicker;
    }

    /** {@code IOMalloc(size)}: {@code kalloc_tag_bt(size, VM_KERN_MEMORY_IOKIT)}; NULL on failure, never panics. */
    public long ioMalloc(long size, int site) {
        long addr = kalloc.kalloc(size, true, site);
        if (addr != 0) {
            iomallocAllocation.addAndGet(size);
        }
        return addr;
    }

    /** {@code IOMallocZero(size)}: IOMalloc and bzero of the requested bytes. */
    public long ioMallocZero(long size, int site) {
        long addr = ioMalloc(size, site);
        if (addr != 0) {
            memory.fill(addr, size, 0);
        }
        return addr;
    }

    /** {@code IOFree(address, size)}: NULL is a no-op, else kfree with that size. */
    public void ioFree(long addr, long size, int site) {
        if (addr == 0) {
            return;
        }
        kalloc.kfree(addr, size, site);
        iomallocAllocation.addAndGet(-size);
    }

    /** {@code IOMallocAligned(size, alignment)}. */
    public long ioMallocAligned(long size, long alignment, int site) {
        if (size == 0) {
            return 0;
        }
        long align = roundToPowerOfTwo(Math.max(alignment, 1));
        long alignMask = align - 1;
        long addr;
        if (size + HEADER >= AddressSpace.PAGE_SIZE) {
            addr = kmemAlloc(size, Math.max(align, AddressSpace.PAGE_SIZE), site, size);
        } else {
            long adjustedSize = size + HEADER + alignMask;
            long allocation = adjustedSize >= AddressSpace.PAGE_SIZE
                    ? kmemAlloc(adjustedSize, 0, site, size)
                    : kalloc.kallocPadded(adjustedSize, size, site);
            if (allocation == 0) {
                return 0;
            }
            addr = (allocation + alignMask + HEADER) & ~alignMask;
            writeHeader(addr, adjustedSize, allocation);
        }
        if (addr != 0) {
            iomallocAllocation.addAndGet(size);
        }
        return addr;
    }

    /** {@code IOFreeAligned(address, size)}: re-derives the allocation's branch from {@code size}, as XNU does. */
    public void ioFreeAligned(long addr, long size, int site) {
        if (addr == 0) {
            return;
        }
        if (size + HEADER >= AddressSpace.PAGE_SIZE) {
            kmemFree(addr, size, site, "IOFreeAligned");
        } else {
            long adjustedSize = memory.load(addr - HEADER, 8);
            long allocation = memory.load(addr - HEADER + 8, 8);
            checkUserSize(allocation, size, site, "IOFreeAligned");
            if (adjustedSize >= AddressSpace.PAGE_SIZE) {
                kmemFree(allocation, size, site, "IOFreeAligned"); // the entry knows its pages; check the caller's size
            } else {
                kalloc.kfree(allocation, adjustedSize, site);
            }
        }
        iomallocAllocation.addAndGet(-size);
    }

    /**
     * {@code IOMallocContiguous(size, alignment, physicalAddress)}. With a physical-address out
     * parameter XNU makes an IOBufferMemoryDescriptor (whole pages, below 4 GiB); without one,
     * small requests come from kalloc with a header and never straddle a page.
     */
    public long ioMallocContiguous(long size, long alignment, long[] physicalAddress, int site) {
        if (size == 0) {
            return 0;
        }
        long align = roundToPowerOfTwo(Math.max(alignment, 1));
        long addr;
        if (physicalAddress != null) {
            addr = kmemAlloc(size, Math.max(align, AddressSpace.PAGE_SIZE), site, size);
            if (addr != 0 && physicalAddress.length > 0) {
                physicalAddress[0] = nextPhysical.getAndAdd(AddressSpace.roundPage(size));
            }
        } else if (2 * size + HEADER > AddressSpace.PAGE_SIZE || align > AddressSpace.PAGE_SIZE) {
            addr = kmemAlloc(size, Math.max(align, AddressSpace.PAGE_SIZE), site, size);
        } else {
            long alignMask = align - 1;
            long adjustedSize = 2 * size + HEADER + alignMask;
            long allocation = kalloc.kallocPadded(adjustedSize, size, site);
            if (allocation == 0) {
                return 0;
            }
            addr = (allocation + alignMask + HEADER) & ~alignMask;
            if (AddressSpace.truncPage(addr) != AddressSpace.truncPage(addr + size - 1)) {
                addr = AddressSpace.roundPage(addr);
            }
            writeHeader(addr, adjustedSize, allocation);
        }
        if (addr != 0) {
            iomallocAllocation.addAndGet(size);
        }
        return addr;
    }

    /** {@code IOFreeContiguous(address, size)}. */
    public void ioFreeContiguous(long addr, long size, int site) {
        if (addr == 0) {
            return;
        }
        VmMap.Entry entry = kernelMap.entryAt(addr);
        if (entry != null && entry.kind == VmMap.Kind.KMEM) {
            kmemFree(addr, size, site, "IOFreeContiguous");
        } else {
            long adjustedSize = memory.load(addr - HEADER, 8);
            long allocation = memory.load(addr - HEADER + 8, 8);
            checkUserSize(allocation, size, site, "IOFreeContiguous");
            kalloc.kfree(allocation, adjustedSize, site);
        }
        iomallocAllocation.addAndGet(-size);
    }

    /** {@code IOMallocPageable(size, alignment)}: pageable pages; NULL above 512 MiB or for an alignment above a page. */
    public long ioMallocPageable(long size, long alignment, int site) {
        if (size == 0 || size > PAGEABLE_MAP_SIZE || alignment > AddressSpace.PAGE_SIZE) {
            return 0;
        }
        // Sub-page requests (below 3840 bytes) share pages in XNU's chunk allocator; here each takes
        // its own page, which keeps the counters and the pairing rules while spending address space.
        VmMap.Entry entry = kernelMap.allocate(size, 0, VmMap.Kind.IOPAGEABLE, size, site, size);
        if (entry == null) {
            return 0;
        }
        ledger.allocated(site, size);
        pageableAllocation.addAndGet(size);
        return entry.start;
    }

    /** {@code IOFreePageable(address, size)}. */
    public void ioFreePageable(long addr, long size, int site) {
        VmMap.Entry entry = kernelMap.lookup(addr);
        if (entry == null || entry.kind != VmMap.Kind.IOPAGEABLE) {
            // Only IOMallocPageable's memory lies in IOKit's pageable maps; anything else (OSMalloc's
            // pageable kernel_map blocks included) is unknown to IOPageableMapForAddress.
            throw panicker.kernel("iokit/Kernel/IOLib.cpp", 898, site, "IOPageableMapForAddress: null");
        }
        FreeFindings.pageSize(ledger, "IOFreePageable", site, addr, size, entry.requested, entry.site);
        if (!kernelMap.remove(entry)) {
            return; // another thread freed it first
        }
        memory.discard(entry.start, entry.size);
        ledger.freed(entry.site, entry.requested);
        pageableAllocation.addAndGet(-size);
    }

    /** Whole pages for {@code size} bytes; the ledger counts the {@code userSize} the caller asked for. */
    private long kmemAlloc(long size, long align, int site, long userSize) {
        VmMap.Entry entry = kernelMap.allocate(size, align, VmMap.Kind.KMEM, userSize, site, userSize);
        if (entry == null) {
            return 0;
        }
        ledger.allocated(site, userSize);
        return entry.start;
    }

    /** Frees the page entry at {@code addr}; {@code size} is the caller's, checked against what it asked for. */
    private void kmemFree(long addr, long size, int site, String function) {
        VmMap.Entry entry = kernelMap.entryAt(addr);
        if (entry == null || entry.kind != VmMap.Kind.KMEM) {
            ledger.report(new Finding(Finding.Kind.LARGE_FREE_MISMATCH, ledger.site(site), addr, CFormat.format(
                    "%s(%p, %lu) frees no IOKit page allocation at that address; real XNU's kmem_free unmaps the "
                            + "range silently.", function, addr, size)));
            return;
        }
        FreeFindings.pageSize(ledger, function, site, addr, size, entry.requested, entry.site);
        FreeFindings.pages(ledger, entry.site, site, addr);
        if (!kernelMap.remove(entry)) {
            return; // another thread freed it first
        }
        memory.discard(entry.start, entry.size);
        ledger.freed(entry.site, entry.requested);
    }

    private void checkUserSize(long allocation, long size, int site, String function) {
        FreeFindings.paddedSize(ledger, function, site, allocation, size, kalloc.auxOf(allocation));
    }

    private void writeHeader(long addr, long adjustedSize, long allocation) {
        memory.store(addr - HEADER, 8, adjustedSize);
        memory.store(addr - HEADER + 8, 8, allocation);
    }

    private static long roundToPowerOfTwo(long value) {
        long highest = Long.highestOneBit(value);
        return highest == value ? value : highest << 1;
    }

    /** {@code debug_ivars_size}: ioalloccount's "Instance allocation". */
    public long instanceAllocation() {
        return instanceAllocation.get();
    }

    /** {@code debug_container_malloc_size}: "Container allocation". */
    public long containerAllocation() {
        return containerAllocation.get();
    }

    /** {@code debug_iomalloc_size}: "IOMalloc allocation". */
    public long iomallocAllocation() {
        return iomallocAllocation.get();
    }

    /** {@code debug_iomallocpageable_size}: "Pageable allocation". */
    public long pageableAllocation() {
        return pageableAllocation.get();
    }
}
