package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.report.ZoneRow;
import dev.kextharness.kernel.report.ZprintOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code zprint}: Catalina's zone table, as the kernel renders it, after loading the given kexts. */
@Command(name = "zprint", mixinStandardHelpOptions = true,
        description = "Print the kernel's zones in Catalina zprint's layout (system_cmds-854), with the wired memory "
                + "each kext holds, after loading the kexts given with --load.")
final class ZprintCommand extends KernelReportCommand {

    @Option(names = "-w", description = "Show wasted memory for each zone (frag size, free size).")
    private boolean wasted;

    @Option(names = "-s", description = "Sort zones by wasted memory.")
    private boolean sortByWaste;

    @Option(names = "-H", description = "Hide column names.")
    private boolean hideHeaders;

    @Option(names = "-t", description = "Show the total size of allocations over the life of each zone.")
    private boolean totals;

    @Option(names = "-L", description = "Do not show wired memory info, only zone info.")
    private boolean noWiredReport;

    @Parameters(index = "0", arity = "0..1", paramLabel = "name",
            description = "Only zones (and wired-memory sites) whose name contains this, case-sensitively.")
    private String name;

    private ZprintOptions options() {
        return ZprintOptions.defaults().withWasted(wasted).withSortByWaste(sortByWaste)
                .withHideHeaders(hideHeaders).withTotals(totals).withWiredReport(!noWiredReport).withNameFilter(name);
    }

    @Override
    String text(Kernel kernel) {
        return kernel.zprint(options());
    }

    @Override
    JsonNode json(Kernel kernel) {
        ZprintOptions options = options();
        ArrayNode zones = Json.array();
        for (ZoneRow zone : kernel.zoneRows()) {
            if (options.matches(zone.name())) {
                zones.addPOJO(zone);
            }
        }
        return Json.object().set("zones", zones);
    }
}
