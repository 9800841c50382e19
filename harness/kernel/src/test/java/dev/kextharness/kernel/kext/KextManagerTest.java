package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.fixtures.ClientKext;
import dev.kextharness.kernel.kext.fixtures.Counter;
import dev.kextharness.kernel.kext.fixtures.CounterKext;
import dev.kextharness.kernel.kext.fixtures.LibraryKext;
import dev.kextharness.kernel.kext.fixtures.NotAKext;
import dev.kextharness.kernel.kext.fixtures.PanicKext;
import dev.kextharness.kernel.kext.fixtures.Probe;
import dev.kextharness.kernel.kext.fixtures.ProbeKext;
import dev.kextharness.kernel.kext.fixtures.StartFailsKext;
import dev.kextharness.kernel.kext.fixtures.StartThrowsKext;
import dev.kextharness.kernel.kext.fixtures.StaticInitThrowsKext;
import dev.kextharness.kernel.kext.fixtures.StopFailsKext;
import dev.kextharness.kernel.kext.fixtures.Toggle;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.report.KextRow;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kpi.KmodInfo;
import org.junit.jupiter.api.Test;

import java.util.List;

class KextManagerTest {
    private final Kernel kernel = Kernel.boot();
    private final KextManager kexts = kernel.kexts();

    private List<String> kextLines(int from) {
        return kernel.log().textSince(from).stream()
                .filter(l -> l.startsWith("Kext ") || l.startsWith("Can't ") || l.startsWith("Failed ")).toList();
    }

    @Test
    void loadRunsXnuLifecycleAndLogsItsMessages() {
        int from = kernel.log().size();
        LoadedKext kext = kexts.load(CounterKext.class);

        assertThat(kext.state()).isEqualTo(LoadedKext.State.STARTED);
        assertThat(kext.loadTag()).as("after the kernel (0) and its KPI pseudo-kexts (1 to 8)").isEqualTo(9);
        assertThat(kext.address()).isEqualTo(AddressSpace.KEXT_BASE);
        assertThat(kext.size()).isGreaterThanOrEqualTo(3 * AddressSpace.PAGE_SIZE).isEqualTo(AddressSpace.roundPage(kext.size()));
        assertThat(kextLines(from)).containsExactly(
                "Kext dev.kextharness.test.counter executable loaded; " + kext.size() / 4096
                        + " pages at 0xffffff7f9f000000 (load tag 9).",
                "Kext dev.kextharness.test.counter calling module start function.",
                "Kext dev.kextharness.test.counter is now started.",
                "Kext dev.kextharness.test.counter loaded.");
        assertThat(kernel.log().textSince(from)).contains("counter: started as dev.kextharness.test.counter (tag 9)");
        assertThat(kexts.lastLoaded().bundleId()).isEqualTo("dev.kextharness.test.counter");
        assertThat(kexts.loaded()).containsExactly(kext);

        from = kernel.log().size();
        kexts.unload(kext);
        assertThat(kext.state()).isEqualTo(LoadedKext.State.UNLOADED);
        assertThat(kextLines(from)).containsExactly(
                "Kext dev.kextharness.test.counter calling module stop function.",
                "Kext dev.kextharness.test.counter is now stopped and ready to unload.",
                "Kext dev.kextharness.test.counter unloading.");
        assertThat(kexts.loaded()).isEmpty();
        assertThat(kexts.all()).containsExactly(kext);
        assertThat(kexts.lastUnloaded().address()).isEqualTo(kext.address());
    }

    @Test
    void kextIdentityFollowsKmodInfo() {
        LoadedKext kext = kexts.load(ProbeKext.class, LoadOptions.defaults().withData(0x1234));
        Probe probe = kext.service(Probe.class);

        KmodInfo info = probe.startInfo();
        assertThat(info).isEqualTo(kext.kmodInfo());
        assertThat(info.id()).isEqualTo(kext.loadTag());
        assertThat(info.name()).isEqualTo("dev.kextharness.test.probe");
        assertThat(info.version()).isEqualTo("1.0");
        assertThat(info.address()).isEqualTo(kext.address());
        assertThat(probe.startData()).isEqualTo(0x1234);
        assertThat(kext.uuid()).matches("[0-9A-F]{8}-[0-9A-F]{4}-3[0-9A-F]{3}-[0-9A-F]{4}-[0-9A-F]{12}")
                .isEqualTo(LoadedKext.uuidOf("dev.kextharness.test.probe", "1.0"));
    }

    @Test
    void eachLoadGetsFreshStaticStateAndANewTag() {
        LoadedKext first = kexts.load(ProbeKext.class);
        assertThat(first.service(Probe.class).initialisations()).isEqualTo(1);
        assertThat(first.service(Probe.class).starts()).isEqualTo(1);
        kexts.unload(first);

        LoadedKext second = kexts.load(ProbeKext.class);
        assertThat(second.service(Probe.class).initialisations()).isEqualTo(1);
        assertThat(second.service(Probe.class).starts()).isEqualTo(1);
        assertThat(second.loadTag()).isEqualTo(10);
        assertThat(second.address()).isEqualTo(first.address() + first.size());
        assertThat(second.service(Probe.class).getClass()).isNotSameAs(ProbeKext.class);
        assertThat(new ProbeKext().starts()).as("the host's copy is untouched by loads").isZero();
    }

    @Test
    void loadingALoadedKextAgainReturnsIt() {
        LoadedKext kext = kexts.load(ProbeKext.class);
        assertThat(kexts.load(ProbeKext.class)).isSameAs(kext);
        assertThat(kexts.loaded()).hasSize(1);
    }

    @Test
    void startFailureUnloadsWithoutStopAndReportsStartStopError() {
        int from = kernel.log().size();
        StartFailsKext.stopCalled = false;
        KextLoadException e = catchThrowableOfType(KextLoadException.class,
                () -> kexts.load(StartFailsKext.class, LoadOptions.defaults().withLeakPolicy(LeakPolicy.XNU)));

        assertThat(e.result()).isEqualTo(0xdc008017);
        assertThat(e.bundleId()).isEqualTo("dev.kextharness.test.startfails");
        assertThat(e.getMessage()).startsWith("dev.kextharness.test.startfails failed to load - (libkern/kext) kext "
                        + "(kmod) start/stop routine failed; check the system/kernel logs for errors or try kextutil(8).")
                .contains("returned 0x5 (KERN_FAILURE)", "without calling its stop routine");
        String id = "dev.kextharness.test.startfails";
        assertThat(kextLines(from)).containsSubsequence(
                "Kext " + id + " calling module start function.",
                "Kext " + id + " did not start (return code 0x5).",
                "Kext " + id + " start failed (result 0x5).",
                "Kext " + id + " failed to load (0xdc008017).",
                "Failed to load kext " + id + " (error 0xdc008017).",
                "Kext " + id + " unloading.");
        assertThat(e.log()).isEqualTo(kernel.log().textSince(from));
        assertThat(StartFailsKext.stopCalled).isFalse();
        assertThat(kexts.loaded()).isEmpty();
        assertThat(kexts.all()).singleElement().satisfies(k -> assertThat(k.isLoaded()).isFalse());
        assertThat(kernel.ledger().liveCountOfKext(9)).as("XNU leaves the block allocated").isEqualTo(1);
    }

    @Test
    void startFailureIsJudgedByTheLeakPolicy() {
        Throwable verdict = catchThrowableOfType(AssertionError.class,
                () -> kexts.load(StartFailsKext.class, LoadOptions.defaults().withLeakPolicy(LeakPolicy.FAIL)));
        assertThat(verdict).isInstanceOf(KextLeakError.class);
        assertThat(verdict.getSuppressed()).singleElement().isInstanceOf(KextLoadException.class);
        assertThat(kexts.loaded()).isEmpty();

        Kernel strict = Kernel.boot();
        assertThatThrownBy(() -> strict.kexts().load(StartFailsKext.class)).isInstanceOf(KernelPanic.class);
        assertThat(strict.kexts().all()).singleElement().satisfies(k -> assertThat(k.isLoaded()).isFalse());
    }

    @Test
    void startThatThrowsIsAFailedStartWithTheExceptionAsCause() {
        KextLoadException e = catchThrowableOfType(KextLoadException.class, () -> kexts.load(StartThrowsKext.class));
        assertThat(e.result()).isEqualTo(0xdc008017);
        assertThat(e.getCause()).isInstanceOf(IllegalStateException.class).hasMessage("boom in start");
        assertThat(e.getMessage()).contains("Its start routine threw java.lang.IllegalStateException: boom in start",
                "must return a kern_return_t");
        assertThat(e.log()).contains("Kext dev.kextharness.test.startthrows did not start (return code 0x5).");
        assertThat(kexts.loaded()).isEmpty();
    }

    @Test
    void staticInitialiserRunsInsideTheLifecycle() {
        int from = kernel.log().size();
        KextLoadException e = catchThrowableOfType(KextLoadException.class, () -> kexts.load(StaticInitThrowsKext.class));
        assertThat(e.getCause()).isInstanceOf(ArithmeticException.class).hasMessage("static boom");
        assertThat(e.getMessage()).contains("Its static initializer threw java.lang.ArithmeticException: static boom");
        assertThat(kextLines(from).get(1)).isEqualTo("Kext dev.kextharness.test.clinitthrows calling module start function.");
    }

    @Test
    void failedStopKeepsTheKextLoaded() {
        LoadedKext kext = kexts.load(StopFailsKext.class);
        int from = kernel.log().size();
        KextUnloadException e = catchThrowableOfType(KextUnloadException.class, () -> kexts.unload(kext));

        assertThat(e.result()).isEqualTo(0xdc008017);
        assertThat(e.getMessage()).startsWith("Failed to unload dev.kextharness.test.stopfails - (libkern/kext) kext "
                + "(kmod) start/stop routine failed.").contains("returned 0x5 (KERN_FAILURE)");
        assertThat(kextLines(from)).containsExactly(
                "Kext dev.kextharness.test.stopfails calling module stop function.",
                "Kext dev.kextharness.test.stopfails did not stop (return code 0x5).",
                "Kext dev.kextharness.test.stopfails can't unload - module stop returned 0xdc008017.");
        assertThat(kext.state()).isEqualTo(LoadedKext.State.STARTED);
        assertThat(kexts.loaded()).containsExactly(kext);

        kext.service(Toggle.class).set(true);
        KextUnloadException thrown = catchThrowableOfType(KextUnloadException.class, () -> kexts.unload(kext));
        assertThat(thrown.getCause()).isInstanceOf(UnsupportedOperationException.class);
        assertThat(thrown.getMessage()).contains("Its stop routine threw java.lang.UnsupportedOperationException: stop refuses");
        assertThat(kext.isStarted()).isTrue();

        kext.service(Toggle.class).set(false);
        kexts.unload(kext);
        assertThat(kext.isLoaded()).isFalse();
    }

    @Test
    void dependenciesMustBeLoadedAndHoldReferences() {
        int from = kernel.log().size();
        KextLoadException missing = catchThrowableOfType(KextLoadException.class, () -> kexts.load(ClientKext.class));
        assertThat(missing.result()).isEqualTo(0xdc00800e);
        assertThat(kextLines(from)).containsExactly(
                "Kext dev.kextharness.test.client - library kext dev.kextharness.test.library not found.",
                "Can't load kext dev.kextharness.test.client - failed to resolve library dependencies.",
                "Kext dev.kextharness.test.client failed to load (0xdc00800e).",
                "Failed to load kext dev.kextharness.test.client (error 0xdc00800e).");
        assertThat(missing.getMessage()).contains("(libkern/kext) dependency resolution failure",
                "dev.kextharness.test.library, which is not loaded");

        LoadedKext library = kexts.load(LibraryKext.class);
        assertThat(library.loadTag()).as("a failed dependency resolution consumes no tag").isEqualTo(9);
        LoadedKext client = kexts.load(ClientKext.class);
        assertThat(client.dependencies()).containsExactly(library);
        assertThat(library.refs()).isEqualTo(1);

        from = kernel.log().size();
        KextUnloadException inUse = catchThrowableOfType(KextUnloadException.class, () -> kexts.unload(library));
        assertThat(inUse.result()).isEqualTo(0xdc008018);
        assertThat(inUse.getMessage()).startsWith("Failed to unload dev.kextharness.test.library - (libkern/kext) kext "
                + "is in use or retained (cannot unload).").contains("dev.kextharness.test.client (load tag 10)");
        assertThat(kextLines(from)).containsExactly("Can't unload kext dev.kextharness.test.library; outstanding "
                + "references (linkage or tracking object).");
        assertThat(library.isStarted()).isTrue();

        kexts.unload(client);
        assertThat(library.refs()).isZero();
        kexts.unload(library);
    }

    @Test
    void kextstatRowsDescribeKernelAndKexts() {
        LoadedKext library = kexts.load(LibraryKext.class);
        LoadedKext client = kexts.load(ClientKext.class);

        List<KextRow> rows = kexts.kextstatRows();
        assertThat(rows).hasSize(11);
        KextRow kernelRow = rows.get(0);
        assertThat(kernelRow.index()).isZero();
        assertThat(kernelRow.bundleId()).isEqualTo("__kernel__");
        assertThat(kernelRow.version()).isEqualTo("19.6.0");
        assertThat(kernelRow.refs()).isEqualTo(2);
        // The KPI pseudo-kexts, as Catalina's kextstat lists them: size 0, the kernel's version and UUID.
        assertThat(rows.subList(1, 9)).extracting(KextRow::bundleId).containsExactly("com.apple.kpi.bsd",
                "com.apple.kpi.dsep", "com.apple.kpi.iokit", "com.apple.kpi.kasan", "com.apple.kpi.libkern",
                "com.apple.kpi.mach", "com.apple.kpi.private", "com.apple.kpi.unsupported");
        assertThat(rows.get(1)).isEqualTo(new KextRow(1, 2, 0, 0, 0, "com.apple.kpi.bsd", "19.6.0", Kernel.KERNEL_UUID,
                List.of()));
        assertThat(rows.get(8).refs()).as("no kext names com.apple.kpi.unsupported").isZero();
        // Each kext links against the public four by default (bsd 1, iokit 3, libkern 5, mach 6).
        assertThat(rows.get(9)).isEqualTo(new KextRow(9, 1, library.address(), library.size(), library.size(),
                "dev.kextharness.test.library", "2.0", library.uuid(), List.of(1, 3, 5, 6)));
        assertThat(rows.get(10)).isEqualTo(new KextRow(10, 0, client.address(), client.size(), client.size(),
                "dev.kextharness.test.client", "1.0", client.uuid(), List.of(1, 3, 5, 6, 9)));
        assertThat(kernel.kextstat()).contains(" dev.kextharness.test.client (1.0) " + client.uuid() + " <9 6 5 3 1>")
                .contains("    1    2 0                  0          0          com.apple.kpi.bsd (19.6.0) "
                        + Kernel.KERNEL_UUID + "\n");
    }

    @Test
    void serviceNamesWhatTheKextImplements() {
        LoadedKext kext = kexts.load(CounterKext.class);
        assertThat(kext.service(Counter.class).outstanding()).isZero();
        assertThatThrownBy(() -> kext.service(Runnable.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not implement java.lang.Runnable")
                .hasMessageContaining("dev.kextharness.kpi.Kext, dev.kextharness.kernel.kext.fixtures.Counter");
        assertThatThrownBy(() -> kext.service(CounterKext.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is a class, not an interface");
        kexts.unload(kext);
        assertThatThrownBy(() -> kext.service(Counter.class))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is unloaded");
    }

    @Test
    void codeOfAnUnloadedKextFailsClearlyInsteadOfAllocating() {
        LoadedKext kext = kexts.load(CounterKext.class);
        Counter kept = kext.service(Counter.class);
        kept.allocate(32); // binds the _MALLOC and, at stop, the _FREE call sites
        kexts.unload(kext);
        long siteCount = kernel.ledger().siteCount();

        assertThatThrownBy(() -> kept.allocate(16))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("kext dev.kextharness.test.counter (load tag " + kext.loadTag()
                        + ") was unloaded, but its code called _MALLOC afterwards");
        assertThat(kernel.snapshot().kext(kext.loadTag()).isEmpty()).isTrue();
        assertThat(kernel.ledger().siteCount()).isEqualTo(siteCount);
    }

    @Test
    void snapshotOfAKextIsItsPartOfTheWholeSnapshotAndEmptyOnceItFreedEverything() {
        LoadedKext kext = kexts.load(CounterKext.class);
        Counter counter = kext.service(Counter.class);
        counter.allocate(24);
        counter.allocate(5000);
        assertThat(kernel.snapshotOfKext(kext.loadTag()).groups())
                .isEqualTo(kernel.snapshot().kext(kext.loadTag()).groups())
                .hasSize(2);
        counter.freeAll();
        assertThat(kernel.snapshotOfKext(kext.loadTag()).isEmpty()).isTrue();
        kexts.unload(kext);
    }

    @Test
    void aCallSiteFirstReachedAfterUnloadFailsTheSameWay() {
        LoadedKext kext = kexts.load(CounterKext.class);
        Counter kept = kext.service(Counter.class);
        kexts.unload(kext); // nothing was allocated, so no _MALLOC call site was ever bound
        long siteCount = kernel.ledger().siteCount();

        assertThatThrownBy(() -> kept.allocate(16))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kext dev.kextharness.test.counter (load tag " + kext.loadTag() + ") was unloaded")
                .hasMessageContaining("called _MALLOC");
        assertThat(kernel.ledger().siteCount()).as("no site registered for a dead kext").isEqualTo(siteCount);
        assertThat(kernel.snapshot().kext(kext.loadTag()).isEmpty()).isTrue();
    }

    @Test
    void unloadingTwiceIsNotFound() {
        LoadedKext kext = kexts.load(LibraryKext.class);
        kexts.unload(kext);
        KextUnloadException e = catchThrowableOfType(KextUnloadException.class, () -> kexts.unload(kext));
        assertThat(e.result()).isEqualTo(0xdc008006);
        assertThat(e.log()).containsExactly("Can't remove kext dev.kextharness.test.library - not found.");
        assertThatThrownBy(() -> Kernel.boot().kexts().unload(kext)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("another kernel");
    }

    @Test
    void aClassWithoutKextBundleIsNotAKext() {
        KextLoadException e = catchThrowableOfType(KextLoadException.class, () -> kexts.load(NotAKext.class));
        assertThat(e.result()).isEqualTo(0xdc00800b);
        assertThat(e.getMessage()).contains("has no @KextBundle");
        assertThat(kexts.all()).isEmpty();
    }

    @Test
    void aPanicInStartPropagatesEvenIfTheKextSwallowsIt() {
        assertThatThrownBy(() -> kexts.load(PanicKext.class))
                .isInstanceOf(KernelPanic.class)
                .hasMessageContaining("panic-kext: giving up 42");
        assertThat(kexts.loaded()).as("a kext that panics the kernel is still loaded in its panic log")
                .singleElement().satisfies(k -> assertThat(k.bundleId()).isEqualTo("dev.kextharness.test.panic"));
        assertThatThrownBy(() -> kexts.load(LibraryKext.class)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("panicked");
    }

    @Test
    void aLeakAtUnloadReachesTheKernelsVerdict() {
        Kernel failing = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.FAIL));
        LoadedKext kext = failing.kexts().load(CounterKext.class);
        Counter counter = kext.service(Counter.class);
        counter.allocate(24);
        kext.service(Counter.class).freeAll();
        failing.kexts().unload(kext);
        assertThat(kext.isLoaded()).isFalse();
    }

    /** A kext nested in a test class: its nest host stays behind in the host's loader. */
    @dev.kextharness.kpi.KextBundle(id = "dev.kextharness.test.nested", libraries = dev.kextharness.kpi.KextBundle.KPI_UNSUPPORTED)
    public static class NestedKext implements dev.kextharness.kpi.Kext, Counter {
        private static int count;

        @Override
        public int start(KmodInfo ki, long data) {
            return 0;
        }

        @Override
        public int stop(KmodInfo ki, long data) {
            return 0;
        }

        @Override
        public long allocate(long size) {
            count++;
            return dev.kextharness.kpi.Kalloc.kalloc(size);
        }

        @Override
        public void freeAll() {
        }

        @Override
        public int outstanding() {
            return count;
        }
    }

    @Test
    void aKextNestedInATestClassLoads() {
        Kernel lenient = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.XNU));
        LoadedKext kext = lenient.kexts().load(NestedKext.class);
        Counter counter = kext.service(Counter.class);
        assertThat(counter.allocate(100)).isNotZero();
        assertThat(counter.outstanding()).isEqualTo(1);
        assertThat(counter.getClass().getClassLoader()).isInstanceOf(KextClassLoader.class);
        lenient.kexts().unload(kext);
    }

    /** Package-private, so it cannot be shared with another loader: the kext gets its own copy. */
    interface Hidden {
        int value();
    }

    @dev.kextharness.kpi.KextBundle(id = "dev.kextharness.test.hidden")
    static class HiddenKext implements dev.kextharness.kpi.Kext, Hidden {
        public HiddenKext() {
        }

        @Override
        public int start(KmodInfo ki, long data) {
            return 0;
        }

        @Override
        public int stop(KmodInfo ki, long data) {
            return 0;
        }

        @Override
        public int value() {
            return 7;
        }
    }

    @Test
    void aPackagePrivateKextLoadsButItsPackagePrivateInterfaceIsItsOwn() {
        LoadedKext kext = kexts.load(HiddenKext.class);
        assertThat(kext.isStarted()).isTrue();
        assertThat(kext.image().shared).isEmpty();
        assertThatThrownBy(() -> kext.service(Hidden.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not implement " + Hidden.class.getName())
                .hasMessageContaining("is another class of the same name, from the kext dev.kextharness.test.hidden "
                        + "(load tag 9) class loader")
                .hasMessageContaining("only if the interface is public");
        kexts.unload(kext);
    }
}
