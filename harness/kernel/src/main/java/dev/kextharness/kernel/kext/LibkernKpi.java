package dev.kextharness.kernel.kext;

import java.nio.charset.StandardCharsets;

/**
 * {@code <libkern/libkern.h>} and {@code <string.h>} ({@link dev.kextharness.kpi.Libkern}): byte strings.
 *
 * <p>Stability: internal.
 */
final class LibkernKpi extends KextKpi {
    LibkernKpi(KextHost kernel, LoadedKext kext, KextMemory memory) {
        super(kernel, kext, memory);
    }

    public void bzero(long s, long n, int site) {
        enter();
        memory.fill(s, n, 0, site);
    }

    public void bcopy(long src, long dst, long n, int site) {
        enter();
        memory.copy(src, dst, n, site);
    }

    public long memset(long s, int c, long n, int site) {
        enter();
        memory.fill(s, n, c, site);
        return s;
    }

    public long strlcpy(long dst, String src, long size, int site) {
        enter();
        byte[] bytes = src.getBytes(StandardCharsets.UTF_8);
        if (size > 0) {
            int n = (int) Math.min(bytes.length, size - 1);
            memory.check(dst, n + 1, true, site);
            for (int i = 0; i < n; i++) {
                kernel.memory().store8(dst + i, bytes[i]);
            }
            kernel.memory().store8(dst + n, 0);
        }
        return bytes.length;
    }

    public long strlen(long s, int site) {
        enter();
        return memory.cString(s, site).length();
    }
}
