package dev.kextharness.kernel.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One loaded kext as kextstat lists it. A value kextstat could not read is {@link #MISSING}
 * (the numbers) or null (the strings, and entries of {@code linkedAgainst}); kextstat prints
 * those as {@code ??} or {@code ????}, and a null UUID as {@code no UUID}.
 *
 * @param index         the load tag
 * @param refs          kextstat's Refs: how many kexts link against this one
 * @param address       the load address
 * @param size          the load size in bytes
 * @param wired         the wired size in bytes
 * @param bundleId      the bundle identifier
 * @param version       the bundle version
 * @param uuid          the executable's UUID, upper-case as {@code uuid_unparse} prints it
 * @param linkedAgainst the load tags of the kexts this one links against, in any order
 *
 * <p>Stability: stable.
 */
public record KextRow(int index, int refs, long address, long size, long wired, String bundleId,
        String version, String uuid, List<Integer> linkedAgainst) {

    /** A number kextstat could not read ({@code (uint32_t)-1}, {@code kOSKextInvalidLoadTag}). */
    public static final int MISSING = -1;

    public KextRow {
        // Copied, not List.copyOf: a null entry is a tag kextstat could not read.
        linkedAgainst = linkedAgainst == null
                ? List.of()
                : Collections.unmodifiableList(new ArrayList<>(linkedAgainst));
    }
}
