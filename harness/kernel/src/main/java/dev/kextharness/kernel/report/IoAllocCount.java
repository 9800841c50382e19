package dev.kextharness.kernel.report;

import static dev.kextharness.kernel.report.CFields.right;
import static dev.kextharness.kernel.report.CFields.udiv;
import static dev.kextharness.kernel.report.CFields.unsigned;
import static dev.kextharness.kernel.report.CFields.zeroPaddedHex;

import java.util.Objects;

/**
 * ioalloccount's output (IOKitTools): the four {@code IOKitDiagnostics} counters in its order,
 * each {@code printf("%22s = ", name)} then {@code "0x%08llx = %4llu K\n"}.
 *
 * <p>Stability: stable.
 */
public final class IoAllocCount {

    public static final String INSTANCE = "Instance allocation";
    public static final String CONTAINER = "Container allocation";
    public static final String IOMALLOC = "IOMalloc allocation";
    public static final String PAGEABLE = "Pageable allocation";

    private IoAllocCount() {
    }

    /** The four lines of ioalloccount. */
    public static String render(IoAllocCounters counters) {
        Objects.requireNonNull(counters, "counters");
        return line(INSTANCE, counters.instance())
                + line(CONTAINER, counters.container())
                + line(IOMALLOC, counters.ioMalloc())
                + line(PAGEABLE, counters.pageable());
    }

    /** The four lines of ioalloccount, from the counters in its order. */
    public static String render(long instance, long container, long ioMalloc, long pageable) {
        return render(new IoAllocCounters(instance, container, ioMalloc, pageable));
    }

    /** One counter's line, newline included. */
    public static String line(String name, long bytes) {
        return right(name, 22) + " = " + zeroPaddedHex(bytes, 8) + " = " + right(unsigned(udiv(bytes, 1024)), 4) + " K\n";
    }
}
