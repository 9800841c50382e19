package dev.kextharness.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kalloc.Kalloc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code sizeclass <bytes>...}: where kalloc puts a request of that size, and what it wastes, as
 * the zones article explains 4097 bytes being met by 6144 from kalloc.6144. The answer comes from
 * the simulated kernel's own kalloc, not from a second copy of its table.
 */
@Command(name = "sizeclass", mixinStandardHelpOptions = true,
        description = "For each size, the kalloc bucket a request of that many bytes is served from (or kalloc's "
                + "large path, page rounded) and the bytes wasted (xnu-6153, macOS x86_64).",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every size was answered", "2:usage error (a size that is not a number of bytes)"})
final class SizeclassCommand implements Callable<Integer> {
    /** The largest size whose page rounding still fits in a signed 64-bit byte count. */
    private static final long LARGEST = Long.MAX_VALUE - 4095;

    @Spec
    private CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "<bytes>", converter = ByteSize.class,
            description = "Request sizes in bytes (K, M, G suffixes allowed: 4K = 4096).")
    private List<Long> sizes;

    @Option(names = "--json", description = "Print the answers as JSON instead.")
    private boolean json;

    /** Where one request size lands. */
    record SizeClass(long size, String zone, String map, long allocated) {
        long wasted() {
            return allocated - size;
        }

        boolean large() {
            return zone == null;
        }
    }

    @Override
    public Integer call() {
        for (long size : sizes) {
            if (size > LARGEST) {
                throw new ParameterException(spec.commandLine(), size + " bytes is larger than any kernel address "
                        + "space; give at most " + LARGEST);
            }
        }
        Kalloc kalloc = Kernel.boot().kalloc();
        PrintWriter out = spec.commandLine().getOut();
        List<SizeClass> answers = sizes.stream().map(size -> classify(kalloc, size)).toList();
        if (json) {
            ArrayNode array = RunReport.JSON.createArrayNode();
            for (SizeClass a : answers) {
                ObjectNode n = array.addObject();
                n.put("size", a.size());
                n.put("path", a.large() ? "large" : "zone");
                n.put("zone", a.zone());
                n.put("map", a.map());
                n.put("allocatedBytes", a.allocated());
                n.put("wastedBytes", a.wasted());
            }
            out.println(RunReport.write(array));
        } else {
            answers.forEach(a -> out.println(line(a)));
        }
        out.flush();
        return ExitCodes.CLEAN;
    }

    static SizeClass classify(Kalloc kalloc, long size) {
        long allocated = kalloc.bucketSize(size);
        if (size < Kalloc.KALLOC_MAX_PREROUNDED) {
            return new SizeClass(size, kalloc.zoneFor(size).name(), "zone_map", allocated);
        }
        return new SizeClass(size, null, allocated < Kalloc.KALLOC_KERNMAP_SIZE ? "kalloc_map" : "kernel_map",
                allocated);
    }

    /** {@code 4097 bytes -> kalloc.6144 (6144 bytes): 2047 bytes wasted}. */
    static String line(SizeClass a) {
        String where = a.large()
                ? "kalloc large, page rounded, from " + a.map()
                : a.zone();
        return a.size() + " " + bytes(a.size()) + " -> " + where + " (" + a.allocated() + " bytes): "
                + a.wasted() + " " + bytes(a.wasted()) + " wasted";
    }

    private static String bytes(long n) {
        return n == 1 ? "byte" : "bytes";
    }
}
