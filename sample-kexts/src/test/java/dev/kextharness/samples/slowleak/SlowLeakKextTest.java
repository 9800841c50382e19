package dev.kextharness.samples.slowleak;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.zalloc.Zone;
import dev.kextharness.samples.Sample;
import dev.kextharness.samples.SampleCatalog;
import org.junit.jupiter.api.Test;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static org.assertj.core.api.Assertions.assertThat;

@KextTest(leakPolicy = LeakPolicy.PANIC)
class SlowLeakKextTest {

    @Test
    void everyRequestLeaksOneKalloc48RecordAndUnloadPanicsNamingTheKallocSite(Kernel kernel) {
        Zone kalloc48 = kernel.zalloc().zone("kalloc.48");
        long before = kalloc48.liveCount();
        LoadedKext kext = kernel.kextload(SlowLeakKext.class);
        RequestService service = kext.service(RequestService.class);

        service.handle(1000);
        service.handle(234);

        assertThat(service.handled()).isEqualTo(1234);
        assertThat(kalloc48.liveCount() - before).isEqualTo(1234);
        assertThatPanics(() -> kernel.kextunload(kext))
                .panicStringContains("KEXT LEAK: dev.kextharness.samples.slowleak: 1234 allocations (49360 bytes) "
                        + "outstanding at unload")
                .panicLogContains("dev.kextharness.samples.slowleak(1.0)");
        assertThat(kernel.leakReport(kext).render())
                .contains("1234 allocations of 49360 bytes (59232 wired) in kalloc.48, by kalloc")
                .contains("SlowLeakKext.handle(SlowLeakKext.java:");
    }

    @Test
    void startDataChoosesTheRecordSizeAndSoTheZone(Kernel kernel) {
        Zone kalloc64 = kernel.zalloc().zone("kalloc.64");
        Zone kalloc48 = kernel.zalloc().zone("kalloc.48");
        long before64 = kalloc64.liveCount();
        long before48 = kalloc48.liveCount();
        LoadedKext kext = kernel.kextload(SlowLeakKext.class, LoadOptions.defaults().withData(64)
                .withLeakPolicy(LeakPolicy.XNU));

        kext.service(RequestService.class).handle(10);
        kernel.kextunload(kext);

        assertThat(kalloc64.liveCount() - before64).isEqualTo(10);
        assertThat(kalloc48.liveCount()).isEqualTo(before48);
        assertThat(kernel.log().text()).contains("slowleak: started, 64-byte request records\n")
                .contains("slowleak: stopping after 10 requests\n");
    }

    @Test
    void balancedTwinFreesEachRecordAndUnloadsClean(Kernel kernel) {
        Zone kalloc48 = kernel.zalloc().zone("kalloc.48");
        long before = kalloc48.liveCount();
        LoadedKext kext = kernel.kextload(BalancedSlowLeakKext.class);
        RequestService service = kext.service(RequestService.class);

        service.handle(5000);

        assertThat(service.handled()).isEqualTo(5000);
        assertThat(kalloc48.liveCount()).isEqualTo(before);
        // Each record came from kalloc.48 (the ledger counts every call); the zone's own lifetime
        // count moves only when a per-CPU magazine refills from it, as zprint's would on Catalina.
        long kextAllocations = 0;
        for (int site = 0; site < kernel.ledger().siteCount(); site++) {
            if (kernel.ledger().loadTag(site) == kext.loadTag()) {
                kextAllocations += kernel.ledger().totalCount(site);
            }
        }
        assertThat(kextAllocations).isGreaterThanOrEqualTo(5000);
        kernel.kextunload(kext);
        assertThat(kernel).hasNoLeaks();
    }

    @Test
    void catalogEntryExercisesTheLeakThroughTheServiceInterface(Kernel kernel) {
        Sample sample = SampleCatalog.find("slowleak").orElseThrow();
        assertThat(sample.kext()).isEqualTo(SlowLeakKext.class);
        assertThat(sample.twin()).isEqualTo(BalancedSlowLeakKext.class);
        assertThat(sample.expected()).isEqualTo(Sample.Outcome.PANIC);

        LoadedKext twin = kernel.kextload(sample.twin());
        sample.exercise().run(kernel, twin);
        assertThat(twin.service(RequestService.class).handled()).isEqualTo(1000);
        kernel.kextunload(twin);

        LoadedKext kext = kernel.kextload(sample.kext());
        sample.exercise().run(kernel, kext);
        assertThatPanics(() -> kernel.kextunload(kext)).panicStringContains("1000 allocations (40000 bytes)");
    }
}
