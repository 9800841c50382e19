package dev.kextharness.kernel.kalloc;

import static dev.kextharness.kernel.TestKernel.p;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.VmMap;
import org.junit.jupiter.api.Test;

/** Fact sheet §2: {@code kfree_addr} (what {@code _FREE} uses) and its panics. */
class KfreeAddrTest {

    private static long kfreeAddr(TestKernel t, long addr) {
        return t.kernel.kalloc().kfreeAddr(addr, t.site("_FREE"));
    }

    @Test
    void zoneElementsAreFreedToTheirOwnZone() {
        TestKernel t = TestKernel.boot();
        long count = t.zone("kalloc.400").liveCount();
        long a = t.malloc(390, 0);
        assertThat(t.zone("kalloc.400").liveCount()).isEqualTo(count + 1);
        assertThat(kfreeAddr(t, a)).isEqualTo(400);
        assertThat(t.zone("kalloc.400").liveCount()).isEqualTo(count);
        assertThat(t.kernel.ledger().liveCount(t.site("_MALLOC"))).isZero();
    }

    @Test
    void largeBlocksAreFoundByTheirVmEntry() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(30000, 0);
        long b = t.malloc(1 << 20, 0);
        assertThat(kfreeAddr(t, a)).isEqualTo(32768);
        assertThat(t.kernel.kalloc().largeInuse()).isEqualTo(1);
        assertThat(t.kernel.kalloc().largeTotal()).isEqualTo(1 << 20);
        assertThat(kfreeAddr(t, b)).isEqualTo(1 << 20);
        assertThat(t.kernel.kalloc().largeInuse()).isZero();
        assertThat(t.kernel.kalloc().largeTotal()).isZero();
        assertThat(t.kernel.kallocMap().size()).isZero();
    }

    @Test
    void anAddressBelowTheKernelRangePanics() {
        TestKernel t = TestKernel.boot();
        t.assertPanics(() -> kfreeAddr(t, 0x1000),
                "kfree on an address not in the kernel & kext address range! addr: 0x1000\n");
    }

    @Test
    void theKernelRangeStartsTwoGiBBelowVmMinKernelAddress() {
        assertThat(AddressSpace.VM_MIN_KERNEL_AND_KEXT_ADDRESS).isEqualTo(0xFFFFFF8000000000L - 0x80000000L);
        TestKernel t = TestKernel.boot();
        long justBelow = AddressSpace.VM_MIN_KERNEL_AND_KEXT_ADDRESS - 16;
        t.assertPanics(() -> kfreeAddr(t, justBelow),
                "kfree on an address not in the kernel & kext address range! addr: 0xffffff7f7ffffff0\n");
    }

    @Test
    void anAddressWithNoVmEntryPanicsAsNotAllocatedViaKalloc() {
        TestKernel t = TestKernel.boot();
        long addr = AddressSpace.KALLOC_MAP_BASE + 0x100000;
        t.assertPanics(() -> kfreeAddr(t, addr),
                "Attempting to lookup/free an address not allocated via kalloc! (vm_map_lookup_entry() failed map: "
                        + "0xffffff801f8a2d40, addr: " + p(addr) + ")\n");
    }

    @Test
    void aDoubleFreeOfALargeBlockPanicsAsNotAllocatedViaKalloc() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(100000, 0);
        t.free(a);
        t.assertPanics(() -> t.free(a),
                "Attempting to lookup/free an address not allocated via kalloc! (vm_map_lookup_entry() failed map: "
                        + p(t.kernel.kallocMap().structAddress()) + ", addr: " + p(a) + ")\n");
    }

    @Test
    void aKernelMapBlockIsLookedUpInKernelMap() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(1 << 20, 0);
        t.free(a);
        t.assertPanics(() -> t.free(a),
                "Attempting to lookup/free an address not allocated via kalloc! (vm_map_lookup_entry() failed map: "
                        + "0xffffff801f8a2c60, addr: " + p(a) + ")\n");
    }

    @Test
    void theMiddleOfALargeBlockPanics() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(20000, 0);
        VmMap.Entry entry = t.kernel.kalloc().largeBlock(a);
        long entryStruct = t.kernel.kallocMap().entryStructAddress(entry);
        t.assertPanics(() -> t.free(a + 4096),
                "Attempting to lookup/free the middle of a kalloc'ed element! (map: 0xffffff801f8a2d40, addr: "
                        + p(a + 4096) + ", entry: " + p(entryStruct) + ")\n");
    }

    @Test
    void aPageableBlockIsNotManagedByKalloc() {
        TestKernel t = TestKernel.boot();
        long tag = t.tagalloc("com.example.pageable", OSMallocTags.OSMT_PAGEABLE);
        long a = t.osmalloc(8192, tag);
        VmMap.Entry entry = t.kernel.kernelMap().entryAt(a);
        assertThat(entry).isNotNull();
        assertThat(entry.kind).isEqualTo(VmMap.Kind.PAGEABLE);
        t.assertPanics(() -> t.free(a),
                "Attempting to lookup/free an address not managed by kalloc! (map: 0xffffff801f8a2c60, addr: " + p(a)
                        + ", entry: " + p(t.kernel.kernelMap().entryStructAddress(entry)) + ")\n");
    }

    @Test
    void anIOMallocPageableBlockIsNotManagedByKallocEither() {
        TestKernel t = TestKernel.boot();
        long a = t.kernel.iokit().ioMallocPageable(8192, 4096, t.site("IOMallocPageable"));
        VmMap.Entry entry = t.kernel.kernelMap().entryAt(a);
        t.assertPanics(() -> t.free(a),
                "Attempting to lookup/free an address not managed by kalloc! (map: 0xffffff801f8a2c60, addr: " + p(a)
                        + ", entry: " + p(t.kernel.kernelMap().entryStructAddress(entry)) + ")\n");
    }
}
