package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.fixtures.Counter;
import dev.kextharness.kernel.kext.fixtures.CounterKext;
import dev.kextharness.kernel.kext.fixtures.Spinner;
import dev.kextharness.kernel.kext.fixtures.SpinnerKext;
import dev.kextharness.kernel.kext.fixtures.SpinningClinitKext;
import dev.kextharness.kernel.kext.fixtures.SpinningStartKext;
import dev.kextharness.kernel.kext.fixtures.SpinningSysctlKext;
import dev.kextharness.kernel.kext.fixtures.Toggle;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.user.UserProcess;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/** The kext watchdog, preemption points and the panic as the kernel's state. */
class WatchdogTest {
    /** Small, so that each overrun ends quickly; it is the trigger, not a time the test measures. */
    private static final Duration LIMIT = Duration.ofMillis(100);

    /** The first kext's load tag: after the KPI pseudo-kexts. */
    private static final int FIRST_TAG = KextManager.PSEUDO_KEXTS.size() + 1;

    private final Kernel kernel = Kernel.boot(KernelConfig.defaults().withWatchdog(LIMIT));

    @Test
    void aStartThatLoopsForeverEndsInAWatchdogPanicWithTheKextsStack() throws IOException {
        KernelPanic panic = catchThrowableOfType(() -> kernel.kextload(SpinningStartKext.class), KernelPanic.class);

        assertThat(panic).isNotNull();
        assertThat(kernel.panic()).isSameAs(panic);
        assertThat(panic.panicString()).contains("kext watchdog: dev.kextharness.test.spinstart (load tag " + FIRST_TAG + ") ran its "
                + "start routine for").contains("over the watchdog limit of 100 ms");
        String frame = "dev.kextharness.kernel.kext.fixtures.SpinningStartKext.start(SpinningStartKext.java:"
                + lineOf("SpinningStartKext", "SPIN-LINE") + ")";
        assertThat(panic.panicString()).contains("stopped at " + frame);
        assertThat(panic.harnessNote()).contains("XNU has no such watchdog").contains("\tat " + frame);
        // The panic was raised on the kext's own thread, where it was stopped.
        assertThat(Arrays.stream(panic.getStackTrace()).map(StackTraceElement::getClassName))
                .contains(SpinningStartKext.class.getName());
        assertThat(panic.panicLog()).contains("Kernel Extensions in backtrace:").contains("dev.kextharness.test.spinstart");
    }

    @Test
    void aStaticInitializerThatLoopsForeverIsStoppedToo() {
        KernelPanic panic = catchThrowableOfType(() -> kernel.kextload(SpinningClinitKext.class), KernelPanic.class);

        assertThat(panic).isNotNull();
        assertThat(kernel.panic()).isSameAs(panic);
        assertThat(panic.panicString()).contains("ran its start routine for")
                .contains("stopped at dev.kextharness.kernel.kext.fixtures.SpinningClinitKext$Table.<clinit>(SpinningClinitKext.java:");
    }

    @Test
    void aStopThatLoopsForeverEndsInAWatchdogPanic() {
        LoadedKext kext = kernel.kextload(SpinnerKext.class);
        kext.service(Toggle.class).set(true);

        KernelPanic panic = catchThrowableOfType(() -> kernel.kextunload(kext), KernelPanic.class);

        assertThat(panic.panicString()).contains("dev.kextharness.test.spinner (load tag " + kext.loadTag() + ") ran its stop routine")
                .contains("stopped at dev.kextharness.kernel.kext.fixtures.SpinnerKext.stop(SpinnerKext.java:");
    }

    @Test
    void aServiceCallThatLoopsForeverEndsInAWatchdogPanic() {
        Spinner spinner = kernel.kextload(SpinnerKext.class).service(Spinner.class);

        KernelPanic panic = catchThrowableOfType(spinner::spin, KernelPanic.class);

        assertThat(panic.panicString()).contains("ran its service call Spinner.spin for")
                .contains("stopped at dev.kextharness.kernel.kext.fixtures.SpinnerKext.spin(SpinnerKext.java:");
    }

    @Test
    void aSysctlHandlerThatLoopsForeverEndsInAWatchdogPanic() {
        kernel.kextload(SpinningSysctlKext.class);
        UserProcess process = UserProcess.spawn(kernel, "client");

        KernelPanic panic = catchThrowableOfType(
                () -> process.sysctlbyname("debug.spin", new byte[4], new long[]{4}, null, 0), KernelPanic.class);

        assertThat(panic).isNotNull();
        assertThat(kernel.panic()).isSameAs(panic);
        assertThat(panic.panicString()).contains("ran its sysctl handler of debug.spin for")
                .contains("stopped at dev.kextharness.kernel.kext.fixtures.SpinningSysctlKext.handler(SpinningSysctlKext.java:");
    }

    @Test
    void aLoopThatCatchesThrowableCannotSwallowTheStop() {
        Spinner spinner = kernel.kextload(SpinnerKext.class).service(Spinner.class);

        KernelPanic panic = catchThrowableOfType(spinner::spinCatchingEverything, KernelPanic.class);

        assertThat(panic.panicString()).contains("ran its service call Spinner.spinCatchingEverything");
        assertThat(panic.harnessNote()).contains("SpinnerKext.spin(").contains("SpinnerKext.spinCatchingEverything(");
    }

    @Test
    void aPanicTheKextSwallowsStillEndsItsCallAndKillsTheKernel() {
        Spinner spinner = kernel.kextload(SpinnerKext.class).service(Spinner.class);

        KernelPanic panic = catchThrowableOfType(spinner::swallowDoubleFree, KernelPanic.class);

        assertThat(panic).isNotNull().isSameAs(kernel.panic());
        assertThat(panic.panicString()).contains("double free");
        // The handler's entry threw the panic again: the allocation after it never happened.
        assertThat(panic.ledger().kext(FIRST_TAG).count()).isZero();
        // And the kext's code stops at its next preemption point, whatever it is.
        assertThat(catchThrowableOfType(spinner::ping, KernelPanic.class)).isSameAs(panic);
    }

    @Test
    void otherKernelsGoOn() {
        Spinner spinner = kernel.kextload(SpinnerKext.class).service(Spinner.class);
        Kernel other = Kernel.boot();
        Counter counter = other.kextload(CounterKext.class).service(Counter.class);

        assertThat(catchThrowableOfType(spinner::spin, KernelPanic.class)).isNotNull();

        assertThat(other.panicked()).isFalse();
        assertThat(counter.allocate(64)).isNotZero();
        counter.freeAll();
        assertThat(counter.outstanding()).isZero();
        other.unloadAll();
        assertThat(other.panicked()).isFalse();
    }

    @Test
    void withTheWatchdogOffAnUnloadStopsAKextAnotherThreadIsStuckIn() throws Exception {
        Kernel kernel = Kernel.boot(KernelConfig.defaults().withWatchdog(Duration.ZERO));
        LoadedKext kext = kernel.kextload(SpinnerKext.class);
        Spinner spinner = kext.service(Spinner.class);
        CountDownLatch spinning = new CountDownLatch(1);
        kext.preemption().install(spinning::countDown); // the scheduler hook: runs at each point of the kext
        CompletableFuture<Void> stuck = CompletableFuture.runAsync(spinner::spin);
        spinning.await();

        // No lock of the kernel is held while kext code runs: others can look and act.
        assertThat(kernel.loadedKexts()).containsExactly(kext);
        assertThat(kernel.kextstat()).contains("dev.kextharness.test.spinner");
        KernelPanic panic = catchThrowableOfType(() -> kernel.kextunload(kext), KernelPanic.class);

        assertThat(panic.panicString()).contains("dev.kextharness.test.spinner (load tag " + kext.loadTag() + ") was unloaded while its "
                + "service call Spinner.spin still ran on thread").contains("SpinnerKext.spin(SpinnerKext.java:");
        ExecutionException ended = catchThrowableOfType(stuck::get, ExecutionException.class);
        assertThat(ended.getCause()).isSameAs(panic);
    }

    @Test
    void theSchedulerHookRunsAtEachPointAndCostsNothingOnceRemoved() {
        LoadedKext kext = kernel.kextload(SpinnerKext.class);
        Spinner spinner = kext.service(Spinner.class);
        AtomicInteger points = new AtomicInteger();

        kext.preemption().install(points::incrementAndGet);
        spinner.ping();
        int afterOneCall = points.get();
        kext.preemption().uninstall();
        spinner.ping();

        assertThat(afterOneCall).isPositive();
        assertThat(points.get()).isEqualTo(afterOneCall);
        assertThat(kext.preemption().hook()).isNull();
    }

    @Test
    void theLimitIsConfigurableAndOffIsZero() {
        assertThat(KernelConfig.defaults().watchdog()).isEqualTo(KernelConfig.DEFAULT_WATCHDOG);
        assertThat(KernelConfig.defaults().withWatchdog(Duration.ZERO).watchdog()).isZero();
        assertThat(catchThrowableOfType(() -> KernelConfig.defaults().withWatchdog(Duration.ofMillis(-1)),
                IllegalArgumentException.class)).hasMessageContaining("0 (off) or positive");
    }

    /** The line of the fixture's source that carries {@code marker}. */
    private static int lineOf(String fixture, String marker) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("src/test/java/dev/kextharness/kernel/kext/fixtures",
                fixture + ".java"));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(marker)) {
                return i + 1;
            }
        }
        throw new AssertionError(marker + " not in " + fixture);
    }
}
