package dev.kextharness.kpi;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UnlinkedCallTest {

    @Test
    void kpiCallOutsideALoadedKextSaysWhatToDo() {
        assertThatThrownBy(() -> Malloc._MALLOC(1, Malloc.M_TEMP, Malloc.M_WAITOK))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("_MALLOC() was called by code that is not part of a loaded kext.")
                .hasMessageContaining("Kernel.kextload(...)")
                .hasMessageContaining("LoadedKext.service(...)");
    }

    @Test
    void everyRoutedFunctionRefusesToRunUnlinked() {
        assertThatThrownBy(() -> Kalloc.kfree(0, 16)).hasMessageStartingWith("kfree()");
        assertThatThrownBy(() -> OSMalloc.OSMalloc_Tagalloc("t", OSMalloc.OSMT_DEFAULT)).hasMessageStartingWith("OSMalloc_Tagalloc()");
        assertThatThrownBy(() -> IOLib.IOMalloc(16)).hasMessageStartingWith("IOMalloc()");
        assertThatThrownBy(() -> Systm.printf("%d", 1)).hasMessageStartingWith("printf()");
        assertThatThrownBy(() -> Mem.load8(0)).hasMessageStartingWith("load8()");
        assertThatThrownBy(() -> Libkern.bzero(0, 1)).hasMessageStartingWith("bzero()");
        assertThatThrownBy(() -> OSAtomic.OSIncrementAtomic64(0L)).hasMessageStartingWith("OSIncrementAtomic64()");
        assertThatThrownBy(() -> OSAtomic.OSCompareAndSwap(0, 1, 0L)).hasMessageStartingWith("OSCompareAndSwap()");
    }

    @Test
    void atomicsReturnTheOldValueAsOSAtomicDoes() {
        AtomicLong cnt = new AtomicLong();
        assertThat(OSAtomic.OSIncrementAtomic64(cnt)).isZero();
        assertThat(OSAtomic.OSIncrementAtomic64(cnt)).isEqualTo(1);
        assertThat(OSAtomic.OSDecrementAtomic64(cnt)).isEqualTo(2);
        assertThat(OSAtomic.OSAddAtomic64(10, cnt)).isEqualTo(1);
        assertThat(cnt.get()).isEqualTo(11);
    }

    @Test
    void constantsHaveXnuValues() {
        assertThat(Malloc.M_NOWAIT).isEqualTo(1);
        assertThat(Malloc.M_ZERO).isEqualTo(4);
        assertThat(Malloc.M_NULL).isEqualTo(8);
        assertThat(Malloc.M_TEMP).isEqualTo(80);
        assertThat(KernReturn.KERN_FAILURE).isEqualTo(5);
        assertThat(OSMalloc.OSMT_PAGEABLE).isEqualTo(1);
    }
}
