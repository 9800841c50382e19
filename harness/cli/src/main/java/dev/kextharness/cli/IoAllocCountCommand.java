package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.kernel.Kernel;
import picocli.CommandLine.Command;

/** {@code ioalloccount}: IOKit's four allocation counters, after loading the given kexts. */
@Command(name = "ioalloccount", mixinStandardHelpOptions = true,
        description = "Print IOKit's allocation counters in ioalloccount's layout (IOKitTools), after loading the "
                + "kexts given with --load.")
final class IoAllocCountCommand extends KernelReportCommand {

    @Override
    String text(Kernel kernel) {
        return kernel.ioalloccount();
    }

    @Override
    JsonNode json(Kernel kernel) {
        ObjectNode node = Json.object();
        node.put("instanceAllocation", kernel.iokit().instanceAllocation());
        node.put("containerAllocation", kernel.iokit().containerAllocation());
        node.put("iomallocAllocation", kernel.iokit().iomallocAllocation());
        node.put("pageableAllocation", kernel.iokit().pageableAllocation());
        return node;
    }
}
