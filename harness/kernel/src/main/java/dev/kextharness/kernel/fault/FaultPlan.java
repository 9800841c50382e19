package dev.kextharness.kernel.fault;

import org.apiguardian.api.API;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Family;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * Which allocation to fail, after Linux's {@code fail-nth}: the n-th allocation a kext makes,
 * counted from 1 over the allocations this plan selects (of some kexts, of some allocator
 * families), fails once; n = 0 fails none and only counts. Immutable: each {@code with...}
 * returns a new plan.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
public final class FaultPlan {
    /**
     * Where in a kext's life an allocation is made: in {@code kextload} (its initialisers, constructor
     * and start routine), in {@code kextunload} (its stop routine), or in between, while the test or
     * a process calls into it. A plan counts only the allocations of its phase.
     */
    public enum Phase {
        /** Every allocation, whenever it is made. */
        ANY,
        /** Allocations made while a kext loads and starts. */
        START,
        /** Allocations made while no kext is loading or unloading: the kexts' services at work. */
        RUNNING,
        /** Allocations made while a kext stops and unloads. */
        STOP
    }

    private static final FaultPlan COUNT_ONLY = new FaultPlan(0, Set.of(), Set.of(), Phase.ANY, null, null);

    private final long nth;
    private final Set<String> kexts;
    private final Set<Family> families;
    private final Phase phase;
    private final Predicate<CallSite> sites;
    private final String sitesDescription;

    private FaultPlan(long nth, Set<String> kexts, Set<Family> families, Phase phase, Predicate<CallSite> sites,
                      String sitesDescription) {
        this.nth = nth;
        this.kexts = kexts;
        this.families = families;
        this.phase = phase;
        this.sites = sites;
        this.sitesDescription = sitesDescription;
    }

    /** Fails the n-th selected allocation (n counts from 1), as writing n to Linux's fail-nth does. */
    public static FaultPlan failNth(long n) {
        return COUNT_ONLY.withNth(n);
    }

    /** Fails nothing; counts the selected allocations and remembers their call sites. */
    public static FaultPlan countOnly() {
        return COUNT_ONLY;
    }

    /** The same selection, failing its n-th allocation instead (0 = none, count only). */
    public FaultPlan withNth(long n) {
        if (n < 0) {
            throw new IllegalArgumentException("fail-nth counts allocations from 1 (0 = count only), not " + n);
        }
        return new FaultPlan(n, kexts, families, phase, sites, sitesDescription);
    }

    /** Only allocations made by these kexts (bundle identifiers) count; none given = every kext's. */
    public FaultPlan withKexts(Collection<String> bundleIds) {
        return new FaultPlan(nth, Set.copyOf(new TreeSet<>(bundleIds)), families, phase, sites, sitesDescription);
    }

    /** Only allocations of these families count; none given = every allocator a kext can call. */
    public FaultPlan withFamilies(Collection<Family> selected) {
        for (Family family : selected) {
            if (family == Family.KERNEL || family == Family.NONE) {
                throw new IllegalArgumentException("Family." + family + " is not an allocator a kext calls: choose "
                        + "among " + allocatorFamilies());
            }
        }
        return new FaultPlan(nth, kexts, selected.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(selected)), phase,
                sites, sitesDescription);
    }

    /** Only allocations made in this phase count. */
    public FaultPlan withPhase(Phase selected) {
        return new FaultPlan(nth, kexts, families, Objects.requireNonNull(selected, "phase"), sites, sitesDescription);
    }

    /**
     * Only allocations at call sites this predicate accepts count; {@code description} says which
     * ({@code at MyKext.start}) in {@link #describe()}.
     */
    public FaultPlan withSites(Predicate<CallSite> accepted, String description) {
        return new FaultPlan(nth, kexts, families, phase, Objects.requireNonNull(accepted, "accepted"),
                Objects.requireNonNull(description, "description"));
    }

    /** The phase whose allocations count. */
    public Phase phase() {
        return phase;
    }

    /** Which allocation fails, counting from 1; 0 when the plan only counts. */
    public long nth() {
        return nth;
    }

    /** The kexts whose allocations count; empty for every kext. */
    public Set<String> kexts() {
        return kexts;
    }

    /** The families whose allocations count; empty for all. */
    public Set<Family> families() {
        return families;
    }

    /** Whether an allocation made at this call site counts. */
    public boolean selects(CallSite site) {
        return site.loadTag() != 0
                && (kexts.isEmpty() || kexts.contains(site.bundleId()))
                && (families.isEmpty() || families.contains(site.family()))
                && (sites == null || sites.test(site));
    }

    /** Whether an allocation made at this call site, in this phase, counts. */
    public boolean selects(CallSite site, Phase now) {
        return (phase == Phase.ANY || phase == now) && selects(site);
    }

    /** Reads like {@code fail-nth 3 of _MALLOC, kalloc in com.example.kext}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(nth == 0 ? "count only" : "fail-nth " + nth);
        if (!families.isEmpty()) {
            sb.append(" of ");
            families.stream().map(Family::allocator).sorted().forEach(f -> sb.append(f).append(", "));
            sb.setLength(sb.length() - 2);
        }
        if (sitesDescription != null) {
            sb.append(' ').append(sitesDescription);
        }
        if (!kexts.isEmpty()) {
            sb.append(" in ").append(String.join(", ", new TreeSet<>(kexts)));
        }
        if (phase != Phase.ANY) {
            sb.append(" during ").append(phase.name().toLowerCase(java.util.Locale.ROOT));
        }
        return sb.toString();
    }

    private static String allocatorFamilies() {
        StringBuilder sb = new StringBuilder();
        for (Family family : Family.values()) {
            if (family != Family.KERNEL && family != Family.NONE) {
                sb.append(sb.length() == 0 ? "" : ", ").append(family);
            }
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FaultPlan other && nth == other.nth && kexts.equals(other.kexts)
                && families.equals(other.families) && phase == other.phase && Objects.equals(sites, other.sites)
                && Objects.equals(sitesDescription, other.sitesDescription);
    }

    @Override
    public int hashCode() {
        return Objects.hash(nth, kexts, families, phase, sitesDescription);
    }

    @Override
    public String toString() {
        return "FaultPlan[" + describe() + "]";
    }
}
