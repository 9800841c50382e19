package dev.kextharness.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kalloc.Kalloc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code sizeclass <bytes>...}: where kalloc puts a request of that size, and what it wastes, as
 * the zones article explains 4097 bytes being met by 6144 from kalloc.6144. The answer comes from
 * the simulated kernel's own kalloc, not from a second copy of its table.
 */
@Command(name = "sizeclass", mixinStandardHelpOptions = true,
        description = "For each size, the kalloc bucket a request of that many bytes is served from (or kalloc's "
                + "large path, page rounded) and the bytes wasted (xnu-6153, macOS x86_64). A large request "
                + "above the wired extent limit, max(2 GiB, RAM/64), fails with KERN_RESOURCE_SHORTAGE.",
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {"0:every size was answered (a request kalloc refuses is an answer too)",
                "1:internal error of the harness", "2:usage error (a size that is not a number of bytes)"})
final class SizeclassCommand implements Callable<Integer> {
    /** The largest size whose page rounding still fits in a signed 64-bit byte count. */
    private static final long LARGEST = Long.MAX_VALUE - 4095;

    @Spec
    private CommandSpec spec;

    /** Strings, converted in {@link #call()}, so that every bad size is named, wherever it stands. */
    @Parameters(arity = "1..*", paramLabel = "<bytes>",
            description = "Request sizes in bytes (K, M, G suffixes allowed: 4K = 4096).")
    private List<String> sizes;

    @Option(names = "--ram", paramLabel = "<size>", converter = ByteSize.class, defaultValue = "32G",
            description = "Physical memory of the simulated Mac, which sets the wired extent limit "
                    + "(default: ${DEFAULT-VALUE}).")
    private long ram;

    @Option(names = "--json", description = "Print the answers as JSON instead.")
    private boolean json;

    /**
     * Where one request size lands; {@code map} null when kalloc returns NULL for it, because its
     * page rounded size is above {@code limit}, the wired extent limit.
     */
    record SizeClass(long size, String zone, String map, long allocated, long limit) {
        long wasted() {
            return allocated - size;
        }

        boolean large() {
            return zone == null;
        }

        boolean fails() {
            return map == null;
        }
    }

    @Override
    public Integer call() {
        List<Long> bytes = parse(sizes);
        Kalloc kalloc = boot().kalloc();
        PrintWriter out = spec.commandLine().getOut();
        List<SizeClass> answers = bytes.stream().map(size -> classify(kalloc, size)).toList();
        if (json) {
            ArrayNode array = Json.array();
            for (SizeClass a : answers) {
                ObjectNode n = array.addObject();
                n.put("size", a.size());
                n.put("path", a.fails() ? "fails" : a.large() ? "large" : "zone");
                n.put("zone", a.zone());
                n.put("map", a.map());
                n.put("allocatedBytes", a.allocated());
                n.put("wastedBytes", a.fails() ? 0 : a.wasted());
                n.put("kernReturn", a.fails() ? "KERN_RESOURCE_SHORTAGE" : "KERN_SUCCESS");
            }
            out.println(Json.write(array));
        } else {
            answers.forEach(a -> out.println(line(a)));
        }
        out.flush();
        return ExitCodes.CLEAN;
    }

    /** Every size, or one usage error naming every argument that is not one. */
    private List<Long> parse(List<String> values) {
        List<Long> bytes = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        List<String> notSizes = new ArrayList<>();
        for (String value : values) {
            try {
                long size = ByteSize.parse(value);
                if (size > LARGEST) {
                    problems.add(size + " bytes is larger than any kernel address space (give at most " + LARGEST + ")");
                } else {
                    bytes.add(size);
                }
            } catch (TypeConversionException e) {
                String problem = e.getMessage();
                if (problem.endsWith(": " + ByteSize.HINT)) {
                    notSizes.add(problem.substring(0, problem.length() - ByteSize.HINT.length() - 2));
                } else {
                    problems.add(problem);
                }
            }
        }
        if (!notSizes.isEmpty()) {
            // The hint once, after the last of the arguments it is about.
            problems.add(String.join("; ", notSizes) + ": " + ByteSize.HINT);
        }
        if (!problems.isEmpty()) {
            throw new ParameterException(spec.commandLine(), String.join("; ", problems));
        }
        return bytes;
    }

    private Kernel boot() {
        try {
            return Kernel.boot(KernelConfig.defaults().withPhysicalMemory(ram));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    static SizeClass classify(Kalloc kalloc, long size) {
        long allocated = kalloc.bucketSize(size);
        if (size < Kalloc.KALLOC_MAX_PREROUNDED) {
            return new SizeClass(size, kalloc.zoneFor(size).name(), "zone_map", allocated,
                    kalloc.wiredExtentLimit());
        }
        if (allocated > kalloc.wiredExtentLimit()) {
            return new SizeClass(size, null, null, allocated, kalloc.wiredExtentLimit());
        }
        return new SizeClass(size, null, allocated < Kalloc.KALLOC_KERNMAP_SIZE ? "kalloc_map" : "kernel_map",
                allocated, kalloc.wiredExtentLimit());
    }

    /** {@code 4097 bytes -> kalloc.6144 (6144 bytes): 2047 bytes wasted}. */
    static String line(SizeClass a) {
        if (a.fails()) {
            return a.size() + " " + bytes(a.size()) + " -> fails, kalloc returns NULL: page rounded to " + a.allocated()
                    + " bytes, above the " + ByteSize.format(a.limit()) + " wired extent limit (KERN_RESOURCE_SHORTAGE)";
        }
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
