package dev.kextharness.junit;

import org.apiguardian.api.API;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.ipc.PortCensus;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.AbstractIntegerAssert;
import org.assertj.core.api.Assertions;

import java.util.HashSet;
import java.util.Set;

/**
 * Assertions on a simulated kernel's ledger. A <em>leak</em> is a live allocation made by a kext
 * that is no longer loaded; what a loaded kext holds is a <em>live kext allocation</em>. The
 * kernel's own allocations (load tag 0) count as neither.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class KernelAssert extends AbstractAssert<KernelAssert, Kernel> {

    KernelAssert(Kernel actual) {
        super(actual, KernelAssert.class);
    }

    /** No allocation of an unloaded kext is live. */
    public KernelAssert hasNoLeaks() {
        isNotNull();
        LedgerSnapshot leaks = leaks();
        if (!leaks.isEmpty()) {
            failWithMessage("%s", KextErrors.shouldHaveNoLeaks(leaks));
        }
        return this;
    }

    /** The kext with this bundle identifier has unloaded and left allocations behind. */
    public KernelAssert hasLeaksIn(String bundleId) {
        isNotNull();
        boolean loaded = loadedBundleIds().contains(bundleId);
        LedgerSnapshot leaks = leaks();
        if (loaded || leaks.kext(bundleId).isEmpty()) {
            failWithMessage("%s", KextErrors.shouldHaveLeaksIn(bundleId, loaded, leaks));
        }
        return this;
    }

    /** Exactly this many allocations made by kexts, loaded or not, are live. */
    public KernelAssert hasLiveAllocations(int expected) {
        isNotNull();
        LedgerSnapshot live = kextAllocations();
        if (live.count() != expected) {
            failWithMessage("%s", KextErrors.shouldHaveLiveAllocations(expected, live));
        }
        return this;
    }

    // ---------------------------------------------------------------------------------------------
    // Ports: the port-leak article's CI check ("count the open ports, fail if they grow")

    /**
     * The number of port names the process holds, as Activity Monitor counts them
     * ({@code mach_port_names}), to assert on: {@code assertThat(kernel).portCountOf(pid).isLessThan(100)}.
     * Fails at once if the process is not alive.
     */
    public AbstractIntegerAssert<?> portCountOf(int pid) {
        isNotNull();
        PortCensus census = actual.portCensus();
        if (census.of(pid).isEmpty()) {
            failWithMessage("Expecting process %d to be alive to count its ports, but it is not running; live: %s",
                    pid, census.rows().stream().map(r -> r.process() + " [" + r.pid() + "]").toList());
        }
        PortCensus.Row row = census.of(pid).orElseThrow();
        return Assertions.assertThat(row.names()).as("port names of %s [%d] (%d send, %d receive, %d dead names)",
                row.process(), pid, row.send(), row.receive(), row.deadNames());
    }

    private LedgerSnapshot kextAllocations() {
        return actual.snapshot().filter(g -> g.site().loadTag() != 0);
    }

    private LedgerSnapshot leaks() {
        Set<String> loaded = loadedBundleIds();
        return kextAllocations().filter(g -> !loaded.contains(g.site().bundleId()));
    }

    private Set<String> loadedBundleIds() {
        Set<String> ids = new HashSet<>();
        actual.loadedKexts().forEach(kext -> ids.add(kext.bundleId()));
        return ids;
    }
}
