package dev.kextharness.samples.iokit;

import static dev.kextharness.kpi.Mem.load8;

/** {@code copyout}: the bytes of a kernel buffer, as the user client receives them. */
final class Copyout {
    private Copyout() {
    }

    static byte[] copyout(long buffer, int length) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) load8(buffer + i);
        }
        return data;
    }
}
