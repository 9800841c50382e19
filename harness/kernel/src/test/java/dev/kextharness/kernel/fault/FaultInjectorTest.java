package dev.kextharness.kernel.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.KextLoadException;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.kext.fixtures.Allocations;
import dev.kextharness.kernel.kext.fixtures.ErrorPathKext;
import dev.kextharness.kernel.kext.fixtures.EveryAllocatorKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Family;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Set;

class FaultInjectorTest {
    private static final String EVERY = "dev.kextharness.test.every-allocator";
    private static final String ERROR_PATH = "dev.kextharness.test.error-path";

    private final Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.FAIL));

    @Test
    void unarmedItNeitherCountsNorFails() {
        LoadedKext kext = kernel.kextload(EveryAllocatorKext.class);

        assertThat(kext.service(Allocations.class).addresses()).doesNotContain(0L);
        assertThat(kernel.faults().count()).isZero();
        assertThat(kernel.faults().injected()).isFalse();
    }

    @Test
    void countingRunRecordsEveryAllocationPointInOrderWithItsSite() {
        kernel.faults().arm(FaultPlan.countOnly());

        LoadedKext kext = kernel.kextload(EveryAllocatorKext.class);

        assertThat(kext.service(Allocations.class).addresses()).doesNotContain(0L);
        assertThat(kernel.faults().count()).isEqualTo(EveryAllocatorKext.ORDER.length);
        assertThat(kernel.faults().sites()).extracting(CallSite::function).containsExactly(EveryAllocatorKext.ORDER);
        assertThat(kernel.faults().sites()).allSatisfy(site -> {
            assertThat(site.bundleId()).isEqualTo(EVERY);
            assertThat(site.methodName()).isEqualTo("start");
        });
        assertThat(kernel.faults().injected()).isFalse();
        assertThat(kernel.log().text()).doesNotContain("FAULT_INJECTION");
    }

    /** Each allocating KPI entry point consults the injector and returns NULL when it is the one to fail. */
    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13})
    void theNthAllocationReturnsNullAndOnlyThatOne(int n) {
        kernel.faults().arm(FaultPlan.failNth(n));

        LoadedKext kext = kernel.kextload(EveryAllocatorKext.class);

        long[] got = kext.service(Allocations.class).addresses();
        assertThat(got[n - 1]).isZero();
        for (int i = 0; i < got.length; i++) {
            boolean skippedForTheFailedTag = n == 1 && i >= 5 && i <= 7; // no tag, no OSMalloc calls
            if (i != n - 1 && !skippedForTheFailedTag) {
                assertThat(got[i]).as("allocation %d (%s)", i + 1, EveryAllocatorKext.ORDER[i]).isNotZero();
            }
        }
        String function = EveryAllocatorKext.ORDER[n - 1];
        assertThat(kernel.faults().injectedSite().function()).isEqualTo(function);
        assertThat(kernel.log().text()).contains("FAULT_INJECTION: forcing a failure of " + function
                + " at EveryAllocatorKext.start(EveryAllocatorKext.java:")
                .contains("allocation " + n + " of " + EVERY + " (fail-nth " + n + ")");
        kernel.kextunload(kext); // frees what it got: no leak verdict
        assertThat(kernel.leakReport(kext).isClean()).isTrue();
    }

    @Test
    void aFailedAllocationIsNotInTheLedger() {
        kernel.faults().arm(FaultPlan.failNth(2).withFamilies(List.of(Family.KALLOC)));

        LoadedKext kext = kernel.kextload(EveryAllocatorKext.class);

        assertThat(kext.service(Allocations.class).addresses()[4]).isZero(); // the 2nd kalloc
        assertThat(kernel.snapshot().kext(kext.loadTag()).count()).isEqualTo(EveryAllocatorKext.ORDER.length - 1);
    }

    @Test
    void familyAndKextFiltersSelectWhatCounts() {
        kernel.faults().arm(FaultPlan.countOnly().withFamilies(List.of(Family.IOMALLOC, Family.OSMALLOC_TAG)));
        kernel.kextload(EveryAllocatorKext.class);
        assertThat(kernel.faults().sites()).extracting(CallSite::function)
                .containsExactly("OSMalloc_Tagalloc", "IOMalloc", "IOMallocZero");

        Kernel other = Kernel.boot();
        other.faults().arm(FaultPlan.failNth(1).withKexts(List.of(ERROR_PATH)));
        LoadedKext every = other.kextload(EveryAllocatorKext.class);
        assertThat(every.service(Allocations.class).addresses()).doesNotContain(0L);
        assertThat(other.faults().count()).isZero();
    }

    @Test
    void countsAllocationPointsPerKext() {
        kernel.faults().arm(FaultPlan.countOnly());

        kernel.kextload(ErrorPathKext.class);
        kernel.kextload(EveryAllocatorKext.class);

        assertThat(kernel.faults().countOf(ERROR_PATH)).isEqualTo(2);
        assertThat(kernel.faults().countOf(EVERY)).isEqualTo(EveryAllocatorKext.ORDER.length);
        assertThat(kernel.faults().countOf("com.example.not-loaded")).isZero();
        assertThat(kernel.faults().count()).isEqualTo(2 + EveryAllocatorKext.ORDER.length);
    }

    @Test
    void aStartWhoseErrorPathFreesUnloadsCleanWithTheResultItReturned() {
        kernel.faults().arm(FaultPlan.failNth(2));

        assertThatThrownBy(() -> kernel.kextload(ErrorPathKext.class))
                .isInstanceOf(KextLoadException.class)
                .hasMessageContaining("KERN_RESOURCE_SHORTAGE");
        assertThat(kernel.faults().injectedSite().function()).isEqualTo("kalloc");
        assertThat(kernel.snapshot().filter(g -> g.site().loadTag() != 0).isEmpty()).isTrue();
    }

    @Test
    void aPlanBeyondTheLastAllocationFailsNothing() {
        kernel.faults().arm(FaultPlan.failNth(3));

        LoadedKext kext = kernel.kextload(ErrorPathKext.class);

        assertThat(kernel.faults().count()).isEqualTo(2);
        assertThat(kernel.faults().injected()).isFalse();
        assertThat(kernel.faults().injectedSite()).isNull();
        assertThat(kext.isLoaded()).isTrue();
    }

    @Test
    void disarmingStopsCountingAndKeepsTheCount() {
        kernel.faults().arm(FaultPlan.countOnly());
        kernel.kextload(ErrorPathKext.class);
        kernel.faults().disarm();

        kernel.kextload(EveryAllocatorKext.class);

        assertThat(kernel.faults().count()).isEqualTo(2);
        assertThat(kernel.faults().plan()).isNull();
    }

    @Test
    void planRefusesNegativeNAndFamiliesThatAreNotAllocators() {
        assertThatThrownBy(() -> FaultPlan.failNth(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("from 1");
        assertThatThrownBy(() -> FaultPlan.countOnly().withFamilies(List.of(Family.KERNEL)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Family.KERNEL").hasMessageContaining("MALLOC, ");
    }

    @Test
    void planDescribesItselfAsFailNth() {
        FaultPlan plan = FaultPlan.failNth(3).withFamilies(List.of(Family.KALLOC, Family.MALLOC))
                .withKexts(List.of("com.example.b", "com.example.a"));

        assertThat(plan.describe()).isEqualTo("fail-nth 3 of _MALLOC, kalloc in com.example.a, com.example.b");
        assertThat(plan.families()).isEqualTo(Set.of(Family.KALLOC, Family.MALLOC));
        assertThat(FaultPlan.countOnly().describe()).isEqualTo("count only");
        assertThat(plan).isEqualTo(FaultPlan.failNth(3).withKexts(List.of("com.example.a", "com.example.b"))
                .withFamilies(List.of(Family.MALLOC, Family.KALLOC)));
    }
}
