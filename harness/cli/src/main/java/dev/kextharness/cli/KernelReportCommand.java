package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kextharness.kernel.Kernel;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * A command that boots a kernel, loads the kexts given with {@code --load}, and prints one of the
 * kernel's reports, in XNU's layout or as JSON. Subclasses say only what the report is.
 */
abstract class KernelReportCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--json", description = "Print the report as JSON instead.")
    boolean json;

    @Mixin
    KextsToLoad kexts;

    @Mixin
    KernelOptions kernelOptions;

    /** The report in the layout of the XNU tool it copies, as the kernel renders it. */
    abstract String text(Kernel kernel);

    /** The same report as JSON. */
    abstract JsonNode json(Kernel kernel);

    @Override
    public final Integer call() {
        Kernel kernel = kernelOptions.boot();
        PrintWriter out = spec.commandLine().getOut();
        int status = kexts.loadInto(kernel, spec.commandLine().getErr());
        if (json) {
            out.println(Json.write(json(kernel)));
        } else {
            out.print(text(kernel));
        }
        out.flush();
        return status;
    }
}
