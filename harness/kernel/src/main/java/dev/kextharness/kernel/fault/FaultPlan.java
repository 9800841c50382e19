package dev.kextharness.kernel.fault;

import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.ledger.Family;

import java.util.Collection;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which allocation to fail, after Linux's {@code fail-nth}: the n-th allocation a kext makes,
 * counted from 1 over the allocations this plan selects (of some kexts, of some allocator
 * families), fails once; n = 0 fails none and only counts. Immutable: each {@code with...}
 * returns a new plan.
 *
 * <p>Stability: experimental.
 */
public final class FaultPlan {
    private static final FaultPlan COUNT_ONLY = new FaultPlan(0, Set.of(), Set.of());

    private final long nth;
    private final Set<String> kexts;
    private final Set<Family> families;

    private FaultPlan(long nth, Set<String> kexts, Set<Family> families) {
        this.nth = nth;
        this.kexts = kexts;
        this.families = families;
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
        return new FaultPlan(n, kexts, families);
    }

    /** Only allocations made by these kexts (bundle identifiers) count; none given = every kext's. */
    public FaultPlan withKexts(Collection<String> bundleIds) {
        return new FaultPlan(nth, Set.copyOf(new TreeSet<>(bundleIds)), families);
    }

    /** Only allocations of these families count; none given = every allocator a kext can call. */
    public FaultPlan withFamilies(Collection<Family> selected) {
        for (Family family : selected) {
            if (family == Family.KERNEL || family == Family.NONE) {
                throw new IllegalArgumentException("Family." + family + " is not an allocator a kext calls: choose "
                        + "among " + allocatorFamilies());
            }
        }
        return new FaultPlan(nth, kexts, selected.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(selected)));
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
                && (families.isEmpty() || families.contains(site.family()));
    }

    /** Reads like {@code fail-nth 3 of _MALLOC, kalloc in com.example.kext}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(nth == 0 ? "count only" : "fail-nth " + nth);
        if (!families.isEmpty()) {
            sb.append(" of ");
            families.stream().map(Family::allocator).sorted().forEach(f -> sb.append(f).append(", "));
            sb.setLength(sb.length() - 2);
        }
        if (!kexts.isEmpty()) {
            sb.append(" in ").append(String.join(", ", new TreeSet<>(kexts)));
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
                && families.equals(other.families);
    }

    @Override
    public int hashCode() {
        return Objects.hash(nth, kexts, families);
    }

    @Override
    public String toString() {
        return "FaultPlan[" + describe() + "]";
    }
}
