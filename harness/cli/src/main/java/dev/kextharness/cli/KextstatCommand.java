package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.report.KextRow;
import picocli.CommandLine.Command;

/** {@code kextstat}: the loaded kexts in kextstat's layout, after loading the given kexts. */
@Command(name = "kextstat", mixinStandardHelpOptions = true,
        description = "Print the loaded kexts in kextstat's layout (kext_tools), after loading the kexts given with "
                + "--load.")
final class KextstatCommand extends KernelReportCommand {

    @Override
    String text(Kernel kernel) {
        return kernel.kextstat();
    }

    @Override
    JsonNode json(Kernel kernel) {
        ArrayNode rows = Json.array();
        for (KextRow row : kernel.kexts().kextstatRows()) {
            if (row.index() == 0) {
                continue; // kextstat never lists the kernel
            }
            ObjectNode n = rows.addObject();
            n.put("index", row.index());
            n.put("refs", row.refs());
            n.put("address", "0x" + Long.toHexString(row.address()));
            n.put("size", row.size());
            n.put("wired", row.wired());
            n.put("bundleId", row.bundleId());
            n.put("version", row.version());
            n.put("uuid", row.uuid());
            ArrayNode linked = n.putArray("linkedAgainst");
            row.linkedAgainst().forEach(linked::add);
        }
        return Json.object().set("kexts", rows);
    }
}
