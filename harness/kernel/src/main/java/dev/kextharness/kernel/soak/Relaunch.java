package dev.kextharness.kernel.soak;

/**
 * A job launchd started again after jetsam killed it ({@link Launchd}).
 *
 * @param uptimeNanos simulated uptime of the relaunch
 * @param killedPid   the pid jetsam killed
 * @param pid         the new process's pid
 * @param name        its name ({@code p_comm})
 * @param refillBytes the cache memory its start-up takes if it lives through it
 *
 * <p>Stability: stable.
 */
public record Relaunch(long uptimeNanos, int killedPid, int pid, String name, long refillBytes) {
}
