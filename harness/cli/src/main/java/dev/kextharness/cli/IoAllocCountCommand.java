package dev.kextharness.cli;

import dev.kextharness.kernel.Kernel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code ioalloccount}: IOKit's four allocation counters, after loading the given kexts. */
@Command(name = "ioalloccount", mixinStandardHelpOptions = true,
        description = "Print IOKit's allocation counters in ioalloccount's layout (IOKitTools), after loading the "
                + "kexts given with --load.")
final class IoAllocCountCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--json", description = "Print the counters (bytes) as JSON instead.")
    private boolean json;

    @Mixin
    private KextsToLoad kexts;

    @Mixin
    private KernelOptions kernelOptions;

    @Override
    public Integer call() {
        Kernel kernel = kernelOptions.boot();
        PrintWriter out = spec.commandLine().getOut();
        int status = kexts.loadInto(kernel, spec.commandLine().getErr());
        if (json) {
            var node = RunReport.JSON.createObjectNode();
            node.put("instanceAllocation", kernel.iokit().instanceAllocation());
            node.put("containerAllocation", kernel.iokit().containerAllocation());
            node.put("iomallocAllocation", kernel.iokit().iomallocAllocation());
            node.put("pageableAllocation", kernel.iokit().pageableAllocation());
            out.println(RunReport.write(node));
        } else {
            out.print(kernel.ioalloccount());
        }
        out.flush();
        return status;
    }
}
