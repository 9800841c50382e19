package dev.kextharness.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kextharness.kernel.kext.KpiContract;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.zalloc.Zone;
import java.util.HashMap;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * Drives the allocators of a booted kernel without kexts: call sites are registered directly in the
 * ledger as if a kext {@code com.example.test} (load tag 1) had been linked, one site per KPI function
 * (the function name decides the allocator family), and the allocator calls go straight to the
 * subsystems.
 */
public final class TestKernel {
    public static final String BUNDLE_ID = "com.example.test";
    public static final int LOAD_TAG = 1;
    /** {@code M_TEMP}, the kext-visible malloc type with no zone of its own. */
    public static final int M_TEMP = 80;
    public static final int M_PCB = 4;
    public static final int M_RTABLE = 5;
    public static final int M_LOCKF = 40;
    public static final int M_WAITOK = 0;

    public final Kernel kernel;
    private final Map<String, Integer> sites = new HashMap<>();
    private int nextLine = 42;

    private TestKernel(Kernel kernel) {
        this.kernel = kernel;
    }

    public static TestKernel boot() {
        return new TestKernel(Kernel.boot(KernelConfig.defaults()));
    }

    public static TestKernel boot(KernelConfig config) {
        return new TestKernel(Kernel.boot(config));
    }

    /** The shared call site of {@code function} (registered on first use). */
    public int site(String function) {
        return sites.computeIfAbsent(function, this::newSite);
    }

    /** A new, distinct call site of {@code function}. */
    public int newSite(String function) {
        Family family = KpiContract.catalina().functions().stream().filter(f -> f.name().equals(function))
                .findFirst().map(f -> Family.of(f.family())).orElse(Family.NONE);
        return kernel.ledger().register(LOAD_TAG, BUNDLE_ID, function, family, "com.example.Test", "method",
                "Test.java", nextLine++);
    }

    public CallSite callSite(int id) {
        return kernel.ledger().site(id);
    }

    public Zone zone(String name) {
        Zone zone = kernel.zalloc().zone(name);
        assertThat(zone).as("zone %s", name).isNotNull();
        return zone;
    }

    /** The zone that owns {@code addr}, by name, or null. */
    public String zoneOf(long addr) {
        Zone zone = kernel.zalloc().zoneOf(addr);
        return zone == null ? null : zone.name();
    }

    // kalloc

    public long kalloc(long size) {
        return kernel.kalloc().kalloc(size, true, site("kalloc"));
    }

    public long kallocNoblock(long size) {
        return kernel.kalloc().kalloc(size, false, site("kalloc_noblock"));
    }

    public void kfree(long addr, long size) {
        kernel.kalloc().kfree(addr, size, site("kfree"));
    }

    // BSD

    public long malloc(long size, int type, int flags) {
        return kernel.malloc().malloc(size, type, flags, site("_MALLOC"));
    }

    public long malloc(long size, int flags) {
        return malloc(size, M_TEMP, flags);
    }

    public void free(long addr, int type) {
        kernel.malloc().free(addr, type, site("_FREE"));
    }

    public void free(long addr) {
        free(addr, M_TEMP);
    }

    public long mallocZone(long size, int type, int flags) {
        return kernel.malloc().mallocZone(size, type, flags, site("_MALLOC_ZONE"));
    }

    public void freeZone(long addr, long size, int type) {
        kernel.malloc().freeZone(addr, size, type, site("_FREE_ZONE"));
    }

    // OSMalloc

    public long tagalloc(String name, int flags) {
        return kernel.osmalloc().tagalloc(name, flags, site("OSMalloc_Tagalloc"));
    }

    public void tagfree(long tag) {
        kernel.osmalloc().tagfree(tag, site("OSMalloc_Tagfree"));
    }

    public long osmalloc(int size, long tag) {
        return kernel.osmalloc().osmalloc(size, tag, true, site("OSMalloc"));
    }

    public long osmallocNowait(int size, long tag) {
        return kernel.osmalloc().osmalloc(size, tag, false, site("OSMalloc_nowait"));
    }

    public void osfree(long addr, int size, long tag) {
        kernel.osmalloc().osfree(addr, size, tag, site("OSFree"));
    }

    // IOKit

    public long ioMalloc(long size) {
        return kernel.iokit().ioMalloc(size, site("IOMalloc"));
    }

    public void ioFree(long addr, long size) {
        kernel.iokit().ioFree(addr, size, site("IOFree"));
    }

    // Panics

    /** Runs {@code call}, which must panic the kernel, and returns the panic. */
    public static KernelPanic panicOf(ThrowingCallable call) {
        KernelPanic[] caught = new KernelPanic[1];
        assertThatThrownBy(call).isInstanceOf(KernelPanic.class).satisfies(e -> caught[0] = (KernelPanic) e);
        return caught[0];
    }

    /** Runs {@code call}, which must panic the kernel with exactly {@code panicString}. */
    public KernelPanic assertPanics(ThrowingCallable call, String panicString) {
        KernelPanic panic = panicOf(call);
        assertThat(panic.panicString()).isEqualTo(panicString);
        assertThat(kernel.panicked()).isTrue();
        assertThat(kernel.panic()).isSameAs(panic);
        return panic;
    }

    /** {@code %p} as macOS prints it. */
    public static String p(long addr) {
        return "0x" + Long.toHexString(addr);
    }
}
