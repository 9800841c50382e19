package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.jetsam.Memorystatus;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** launchd's relaunches in the soak: when they come, what they allocate, what they do not relaunch. */
class LaunchdTest {
    private static final long RAM = 2L << 30;
    private static final long SECOND = 1_000_000_000L;

    private final Kernel kernel = Kernel.boot(KernelConfig.defaults().withPhysicalMemory(RAM));
    private final Launchd launchd = new Launchd(kernel, RAM);

    /** memorystatus kills its next victim (the lowest band) and tells launchd, as the soak does. */
    private Memorystatus.Proc kill(long uptimeNanos) {
        Memorystatus.Proc victim = kernel.memorystatus().killOne("highwater");
        launchd.killed(victim, uptimeNanos);
        return victim;
    }

    @Test
    void aDaemonThatRanLongerThanTheThrottleIntervalIsRelaunchedAtOnceAndRefillsItsCaches() {
        long t = 3600 * SECOND;
        Memorystatus.Proc victim = kill(t);
        assertThat(victim.name()).isEqualTo("photoanalysisd");
        long zoneBefore = kernel.zalloc().zone("kalloc.12288").count();
        launchd.advanceTo(t);
        assertThat(launchd.relaunches()).containsExactly(new Relaunch(t, 470, 600, "photoanalysisd",
                victim.footprintBytes() / 16));
        assertThat(kernel.memorystatus().processes()).extracting(Memorystatus.Proc::pid).contains(600);
        // Spawned like any process: one kalloc.4096 block per 4 MiB of footprint.
        assertThat(kernel.processKernelBytes(600)).isEqualTo((victim.footprintBytes() >>> 22) * 4096);

        // A third of the way through its warm-up, a third of its refill is live in kalloc.12288; all of it at the end.
        long refill = victim.footprintBytes() / 16;
        launchd.advanceTo(t + Launchd.WARMUP_NANOS / 3);
        long third = (kernel.zalloc().zone("kalloc.12288").count() - zoneBefore) * 12288;
        assertThat(third).isBetween(refill / 3 - 12288, refill / 3 + 12288);
        launchd.advanceTo(t + Launchd.WARMUP_NANOS);
        assertThat(launchd.cacheBytes()).isBetween(refill, refill + 12288);
        assertThat(kernel.zalloc().zone("kalloc.12288").count() - zoneBefore).isEqualTo(launchd.cacheBytes() / 12288);

        // The caches are the kernel's: killing the daemon again gives back its process memory, not them.
        long caches = launchd.cacheBytes();
        kill(t + Launchd.WARMUP_NANOS);
        assertThat(kernel.processKernelBytes(600)).isZero();
        assertThat(kernel.zalloc().zone("kalloc.12288").count() - zoneBefore).isEqualTo(caches / 12288);
    }

    @Test
    void aDaemonKilledWithinTheThrottleIntervalOfItsLaunchWaitsOutTheRest() {
        long t = 3600 * SECOND;
        kill(t);
        launchd.advanceTo(t);
        // Killed 3 s after its launch: launchd pushes the respawn out by 7 s.
        kill(t + 3 * SECOND);
        launchd.advanceTo(t + 3 * SECOND);
        launchd.advanceTo(t + 10 * SECOND - 1);
        assertThat(launchd.relaunches()).hasSize(1);
        // It stopped refilling when it died.
        long cachesAtDeath = launchd.cacheBytes();
        launchd.advanceTo(t + 10 * SECOND);
        assertThat(launchd.relaunches()).hasSize(2);
        assertThat(launchd.relaunches().get(1)).isEqualTo(new Relaunch(t + 10 * SECOND, 600, 601, "photoanalysisd",
                launchd.relaunches().get(0).refillBytes()));
        assertThat(cachesAtDeath).isLessThan(launchd.relaunches().get(0).refillBytes() / 10);
    }

    @Test
    void onlyKeepAliveJobsAreRelaunched() {
        // Every boot process killed, long after boot, before launchd gets to run.
        long t = 3600 * SECOND;
        for (int i = 0; i < 10; i++) {
            kill(t);
        }
        assertThat(kernel.memorystatus().processes()).isEmpty();
        launchd.advanceTo(t);
        assertThat(launchd.relaunches()).extracting(Relaunch::name)
                .containsExactlyInAnyOrderElementsOf(Launchd.KEEP_ALIVE)
                .doesNotContain("launchd", "WindowServer", "loginwindow", "Safari");
        assertThat(kernel.memorystatus().processes()).hasSize(Launchd.KEEP_ALIVE.size());
    }
}
