package dev.kextharness.kernel.soak;

/**
 * A process memorystatus killed during the soak.
 *
 * @param uptimeNanos    simulated uptime of the kill
 * @param pid            its pid
 * @param name           its name ({@code p_comm})
 * @param priority       its jetsam band
 * @param footprintBytes its physical footprint, as the kill line prints it
 * @param kernelBytes    the zone memory it held, freed by the kill
 *
 * <p>Stability: stable.
 */
public record JetsamKill(long uptimeNanos, int pid, String name, int priority, long footprintBytes, long kernelBytes) {
}
