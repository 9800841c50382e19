package dev.kextharness.kpi;

/**
 * {@code kmod_info_t}: what the kernel tells a kext about itself when it starts and stops it.
 *
 * @param id      the load tag ({@code kmod_info.id})
 * @param name    the bundle identifier ({@code kmod_info.name})
 * @param version the bundle version ({@code kmod_info.version})
 * @param address the load address of the kext's executable
 * @param size    the size of the kext's executable, in bytes
 *
 * <p>Stability: stable.
 */
public record KmodInfo(int id, String name, String version, long address, long size) {
}
