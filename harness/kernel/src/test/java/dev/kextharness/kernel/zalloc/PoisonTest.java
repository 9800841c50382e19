package dev.kextharness.kernel.zalloc;

import static dev.kextharness.kernel.TestKernel.p;
import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.TestKernel;
import dev.kextharness.kernel.vm.SparseMemory;
import org.junit.jupiter.api.Test;

/** Fact sheet §6.4: poisoning of freed elements and the modified-after-free panic. */
class PoisonTest {

    private static String modified(TestKernel t, String zone, long expected, long found, int offset, int elemSize,
                                   long element) {
        Zalloc z = t.kernel.zalloc();
        return "a freed zone element has been modified in zone " + zone + ": expected " + p(expected) + " but found "
                + p(found) + ", bits changed " + p(expected ^ found) + ", at offset " + offset + " of " + elemSize
                + " in element " + p(element) + ", cookies " + p(z.nopoisonCookie()) + " " + p(z.poisonedCookie());
    }

    @Test
    void cookiesCarryXnusTags() {
        TestKernel t = TestKernel.boot();
        long nopoison = t.kernel.zalloc().nopoisonCookie();
        long poisoned = t.kernel.zalloc().poisonedCookie();
        assertThat(nopoison & 1).isZero();
        assertThat(poisoned & 1).isEqualTo(1);
        assertThat(nopoison >>> 40).isEqualTo(0x3f0011L);
        assertThat(poisoned >>> 40).isEqualTo(0x053521L);
        // A kernel pointer XORed with them reads 0xC0FFEE... and 0xFACADE...
        assertThat((0xffffff8040000000L ^ nopoison) >>> 40).isEqualTo(0xC0FFEEL);
        assertThat((0xffffff8040000000L ^ poisoned) >>> 40).isEqualTo(0xFACADEL);
        assertThat(nopoison).isNotEqualTo(poisoned);
    }

    @Test
    void cookiesDependOnTheBootSeedOnly() {
        Zalloc a = TestKernel.boot(KernelConfig.defaults().withBootSeed(7)).kernel.zalloc();
        Zalloc b = TestKernel.boot(KernelConfig.defaults().withBootSeed(7)).kernel.zalloc();
        Zalloc c = TestKernel.boot(KernelConfig.defaults().withBootSeed(8)).kernel.zalloc();
        assertThat(a.nopoisonCookie()).isEqualTo(b.nopoisonCookie());
        assertThat(a.poisonedCookie()).isEqualTo(b.poisonedCookie());
        assertThat(a.nopoisonCookie()).isNotEqualTo(c.nopoisonCookie());
    }

    @Test
    void freedElementsReadAsPoison() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(64);
        t.kernel.memory().store(a, 8, 0x1122334455667788L);
        t.kernel.memory().store(a + 56, 8, 42);
        t.kfree(a, 64);
        // kalloc.64 has a per-CPU cache on Catalina: its first and last word hold zcache's canary.
        long canary = t.kernel.zalloc().zcacheCanary() ^ a;
        for (int off = 0; off < 64; off += 8) {
            long expected = off == 0 || off == 56 ? canary : SparseMemory.ZP_POISON;
            assertThat(t.kernel.memory().load(a + off, 8)).as("offset %d", off).isEqualTo(expected);
        }
    }

    @Test
    void reallocatingAnUntouchedFreedElementIsFine() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(64);
        t.kernel.memory().store(a + 8, 8, 7);
        t.kfree(a, 64);
        long b = t.kalloc(64);
        assertThat(b).isEqualTo(a); // LIFO
        assertThat(t.kernel.memory().load(b + 8, 8)).isEqualTo(SparseMemory.ZP_POISON);
        assertThat(t.kernel.panicked()).isFalse();
    }

    @Test
    void writeAfterFreeIsCaughtWhenTheElementIsHandedOutAgain() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(64);
        t.kfree(a, 64);
        t.kernel.memory().store(a + 24, 8, 0x4141414141414141L);
        assertThat(t.kernel.panicked()).isFalse(); // nothing checks at write time
        t.assertPanics(() -> t.kalloc(60),
                modified(t, "kalloc.64", 0xdeadbeefdeadbeefL, 0x4141414141414141L, 24, 64, a));
    }

    @Test
    void aOneByteWriteAfterFreeReportsTheWordItChanged() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(300); // kalloc.368
        t.kernel.memory().store(a, 8, 1);
        t.kfree(a, 300);
        t.kernel.memory().store8(a + 33, 0);
        t.assertPanics(() -> t.kalloc(368),
                modified(t, "kalloc.368", 0xdeadbeefdeadbeefL, 0xdeadbeefdead00efL, 32, 368, a));
    }

    @Test
    void aWriteIntoAFreedLargerElementAfterMalloc() {
        TestKernel t = TestKernel.boot();
        long a = t.malloc(4000, 0); // kalloc.4096
        t.free(a);
        t.kernel.memory().store(a + 4000, 4, 0);
        t.assertPanics(() -> t.malloc(4096, 0),
                modified(t, "kalloc.4096", 0xdeadbeefdeadbeefL, 0xdeadbeef00000000L, 4000, 4096, a));
    }

    @Test
    void otherZonesAreNotChecked() {
        TestKernel t = TestKernel.boot();
        long a = t.kalloc(64);
        t.kfree(a, 64);
        t.kernel.memory().store(a + 24, 8, 1);
        long b = t.kalloc(32);
        assertThat(t.zoneOf(b)).isEqualTo("kalloc.32");
        assertThat(t.kernel.panicked()).isFalse();
    }
}
