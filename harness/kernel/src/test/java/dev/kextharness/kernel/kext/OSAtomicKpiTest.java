package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.fixtures.AtomicCounterKext;
import dev.kextharness.kernel.kext.fixtures.Atomics;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.vm.SparseMemory;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.Handle;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** OSAtomic's address forms: linked to the kernel, operating on simulated kernel memory, returning the old value. */
class OSAtomicKpiTest {
    private final Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.XNU));
    private final SparseMemory memory = kernel.memory();
    private LoadedKext kext;
    private Atomics atomics;

    @BeforeEach
    void load() {
        kext = kernel.kexts().load(AtomicCounterKext.class);
        atomics = kext.service(Atomics.class);
    }

    @Test
    void aCounterInKernelMemoryCountsAndEachCallReturnsTheOldValue() {
        long counter = atomics.newCounter();

        assertThat(atomics.increment64(counter)).isZero();
        assertThat(atomics.increment64(counter)).isEqualTo(1);
        assertThat(atomics.increment64(counter)).isEqualTo(2);
        assertThat(memory.load(counter, 8)).isEqualTo(3);
        assertThat(atomics.decrement64(counter)).isEqualTo(3);
        assertThat(atomics.add64(-10, counter)).isEqualTo(2);
        assertThat(memory.load(counter, 8)).as("SInt64 goes negative").isEqualTo(-8);
        assertThat(atomics.add64(Long.MIN_VALUE, counter)).isEqualTo(-8);
        assertThat(memory.load(counter, 8)).as("wraps as two's complement").isEqualTo(Long.MAX_VALUE - 7);
        assertThat(memory.load(counter + 8, 8)).as("the next word").isZero();

        atomics.free(counter);
        kernel.kexts().unload(kext);
    }

    @Test
    void compareAndSwap64StoresOnlyWhenTheOldValueMatches() {
        long counter = atomics.newCounter();
        memory.store(counter, 8, 41);

        assertThat(atomics.compareAndSwap64(40, 100, counter)).isFalse();
        assertThat(memory.load(counter, 8)).isEqualTo(41);
        assertThat(atomics.compareAndSwap64(41, -1, counter)).isTrue();
        assertThat(memory.load(counter, 8)).isEqualTo(-1);

        atomics.free(counter);
    }

    @Test
    void the32BitFormsTouchFourBytesAndWrapAsSInt32() {
        long counter = atomics.newCounter();
        long second = counter + 4;

        assertThat(atomics.increment32(second)).isZero();
        assertThat(atomics.add32(Integer.MAX_VALUE - 1, second)).isEqualTo(1);
        assertThat(atomics.increment32(second)).isEqualTo(Integer.MAX_VALUE);
        assertThat(memory.load(second, 4)).isEqualTo(0x8000_0000L);
        assertThat(atomics.decrement32(second)).isEqualTo(Integer.MIN_VALUE);
        assertThat(memory.load(counter, 4)).as("the neighbouring SInt32").isZero();
        assertThat(memory.load(counter + 8, 4)).as("the neighbouring SInt32").isZero();

        assertThat(atomics.compareAndSwap32(0x7fff_fffe, 5, second)).isFalse();
        assertThat(atomics.compareAndSwap32(0x7fff_ffff, 0xdead_beef, second)).isTrue();
        assertThat(memory.load(second, 4)).as("UInt32 bit pattern").isEqualTo(0xdead_beefL);
        assertThat(atomics.compareAndSwap32(0xdead_beef, 0, second)).isTrue();
        assertThat(memory.load(counter, 8)).isZero();

        atomics.free(counter);
    }

    @Test
    void aMisalignedCounterIsNotCheckedAsOnARelease() {
        long counter = atomics.newCounter();

        assertThat(atomics.increment64(counter + 3)).isZero();
        assertThat(atomics.add64(0x100, counter + 3)).isEqualTo(1);
        assertThat(memory.load(counter + 3, 8)).isEqualTo(0x101);
        assertThat(kernel.panicked()).isFalse();

        atomics.free(counter);
    }

    @Test
    void aWildPointerPageFaultsAndAnOverrunIsStoppedAsMemAccessIs() {
        KernelPanic fault = catchThrowableOfType(KernelPanic.class, () -> atomics.increment64(0));
        assertThat(fault.panicString()).startsWith("Kernel trap at ").contains("type 14=page fault")
                .contains("CR2: 0x0000000000000000");

        Kernel other = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.XNU));
        Atomics onOther = other.kexts().load(AtomicCounterKext.class).service(Atomics.class);
        long counter = onOther.newCounter();
        KernelPanic overrun = catchThrowableOfType(KernelPanic.class, () -> onOther.increment64(counter + 12));
        assertThat(overrun.getMessage()).contains("write of 8 bytes at", "runs 4 bytes past the end of the 16-byte element",
                "Catalina has no such check");
    }

    @Test
    void theAddressFormsAreLinkedToTheKernelAndTheStaticFormStaysPure() {
        byte[] linked = kext.image().bytes(AtomicCounterKext.class.getName());
        List<String> calls = calls(linked);
        assertThat(calls).contains("indy OSIncrementAtomic64 (J)J", "indy OSDecrementAtomic64 (J)J",
                "indy OSAddAtomic64 (JJ)J", "indy OSCompareAndSwap64 (JJJ)Z", "indy OSIncrementAtomic (J)I",
                "indy OSDecrementAtomic (J)I", "indy OSAddAtomic (IJ)I", "indy OSCompareAndSwap (IIJ)Z",
                "invokestatic dev/kextharness/kpi/OSAtomic.OSIncrementAtomic64 (Ljava/util/concurrent/atomic/AtomicLong;)J");
        assertThat(calls).filteredOn(c -> c.startsWith("invokestatic dev/kextharness/kpi/OSAtomic")).hasSize(1);

        assertThat(atomics.incrementStatic()).isZero();
        assertThat(atomics.incrementStatic()).isEqualTo(1);
        long counter = atomics.newCounter();
        atomics.increment64(counter);
        List<String> sites = new ArrayList<>();
        for (int i = 0; i < kernel.ledger().siteCount(); i++) {
            CallSite site = kernel.ledger().site(i);
            if (site.bundleId().equals("dev.kextharness.test.atomics")) {
                sites.add(site.function() + " in " + site.methodName());
            }
        }
        assertThat(sites).contains("OSIncrementAtomic64 in increment64", "_MALLOC in newCounter")
                .doesNotContain("OSIncrementAtomic64 in incrementStatic");
        atomics.free(counter);
    }

    private static List<String> calls(byte[] bytes) {
        List<String> out = new ArrayList<>();
        new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String n, String d, boolean itf) {
                        if (opcode == Opcodes.INVOKESTATIC) {
                            out.add("invokestatic " + owner + "." + n + " " + d);
                        }
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String n, String d, Handle bsm, Object... args) {
                        out.add("indy " + n + " " + d);
                    }
                };
            }
        }, 0);
        return out;
    }
}
