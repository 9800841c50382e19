package dev.kextharness.kernel.vm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VmMapTest {
    private static final long BASE = AddressSpace.KALLOC_MAP_BASE;

    @Test
    void addressSpaceConstants() {
        assertThat(AddressSpace.PAGE_SIZE).isEqualTo(4096);
        assertThat(AddressSpace.PAGE_SHIFT).isEqualTo(12);
        assertThat(AddressSpace.roundPage(0)).isZero();
        assertThat(AddressSpace.roundPage(1)).isEqualTo(4096);
        assertThat(AddressSpace.roundPage(4096)).isEqualTo(4096);
        assertThat(AddressSpace.roundPage(4097)).isEqualTo(8192);
        assertThat(AddressSpace.truncPage(8191)).isEqualTo(4096);
        assertThat(AddressSpace.VM_MIN_KERNEL_ADDRESS).isEqualTo(0xffffff8000000000L);
        assertThat(AddressSpace.VM_MIN_KERNEL_AND_KEXT_ADDRESS).isEqualTo(0xffffff7f80000000L);
        // The regions do not overlap: the largest zone map (64 GiB) fits below kalloc_map, and the
        // kalloc_map of the largest Mac (a 1.5 TiB Mac Pro: 48 GiB) below the rest of kernel_map.
        assertThat(Long.compareUnsigned(AddressSpace.ZONE_MAP_BASE + (64L << 30), AddressSpace.KALLOC_MAP_BASE))
                .isLessThanOrEqualTo(0);
        assertThat(Long.compareUnsigned(AddressSpace.KALLOC_MAP_BASE + (1536L << 30) / 32, AddressSpace.KERNEL_MAP_BASE))
                .isLessThanOrEqualTo(0);
        assertThat(Long.compareUnsigned(AddressSpace.KEXT_BASE, AddressSpace.VM_MIN_KERNEL_AND_KEXT_ADDRESS))
                .isGreaterThanOrEqualTo(0);
    }

    @Test
    void entriesArePageRoundedAndFoundByAnyAddressInside() {
        VmMap map = new VmMap("test_map", 0xffffff801f000000L, BASE, BASE + (1L << 20), 1L << 20);
        VmMap.Entry e = map.allocate(5000, 0, VmMap.Kind.KALLOC, 5000, 3, 0);
        assertThat(e.start).isEqualTo(BASE);
        assertThat(e.size).isEqualTo(8192);
        assertThat(e.end()).isEqualTo(BASE + 8192);
        assertThat(e.requested).isEqualTo(5000);
        assertThat(e.site).isEqualTo(3);
        assertThat(map.size()).isEqualTo(8192);
        assertThat(map.lookup(BASE + 8191)).isSameAs(e);
        assertThat(map.lookup(BASE + 8192)).isNull();
        assertThat(map.entryAt(BASE)).isSameAs(e);
        assertThat(map.entryAt(BASE + 4096)).isNull();
        assertThat(map.inRange(BASE)).isTrue();
        assertThat(map.inRange(BASE + (1L << 20))).isFalse();
        assertThat(map.name()).isEqualTo("test_map");
        assertThat(map.structAddress()).isEqualTo(0xffffff801f000000L);
        assertThat(map.entryStructAddress(e)).isEqualTo(0xffffff801f001000L);
        map.remove(e);
        assertThat(map.size()).isZero();
        assertThat(map.lookup(BASE)).isNull();
    }

    @Test
    void alignmentIsHonoured() {
        VmMap map = new VmMap("test_map", 0, BASE, BASE + (1L << 20), 1L << 20);
        map.allocate(4096, 0, VmMap.Kind.KMEM, 4096, 0, 0);
        VmMap.Entry e = map.allocate(4096, 65536, VmMap.Kind.KMEM, 4096, 0, 0);
        assertThat(e.start % 65536).isZero();
    }

    @Test
    void aFullMapSaysNull() {
        VmMap map = new VmMap("test_map", 0, BASE, BASE + 16384, 16384);
        assertThat(map.allocate(16384, 0, VmMap.Kind.KALLOC, 16384, 0, 0)).isNotNull();
        assertThat(map.allocate(1, 0, VmMap.Kind.KALLOC, 1, 0, 0)).isNull();
        assertThat(map.capacity()).isEqualTo(16384);
    }

    @Test
    void freedSpaceIsUsedAgainOnceTheMapHasBeenGoneThrough() {
        VmMap map = new VmMap("test_map", 0, BASE, BASE + 16384, 16384);
        VmMap.Entry a = map.allocate(8192, 0, VmMap.Kind.KALLOC, 8192, 0, 0);
        VmMap.Entry b = map.allocate(8192, 0, VmMap.Kind.KALLOC, 8192, 0, 0);
        map.remove(a);
        VmMap.Entry c = map.allocate(8192, 0, VmMap.Kind.KALLOC, 8192, 0, 0);
        assertThat(c).isNotNull();
        assertThat(c.start).isEqualTo(a.start);
        map.remove(b);
        map.remove(c);
        for (int i = 0; i < 100; i++) {
            VmMap.Entry e = map.allocate(4096 * (1 + i % 4), 0, VmMap.Kind.KALLOC, 1, 0, 0);
            assertThat(e).as("allocation %d", i).isNotNull();
            map.remove(e);
        }
        assertThat(map.size()).isZero();
    }
}
