package dev.kextharness.kernel.kext;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The KPI table in {@code src/docs/kpi.md} is the contract's own rendering. Run with
 * {@code -Dkpi.table.write=true} to rewrite it after changing a declaration.
 */
class KpiTableTest {
    private static final Path PAGE = Path.of("../../src/docs/kpi.md");
    private static final String START = "<!-- kpi table: generated from the @Kpi declarations; do not edit by hand -->\n";
    private static final String END = "<!-- end kpi table -->";

    @Test
    void theDocumentedTableIsTheContracts() throws IOException {
        String page = Files.readString(PAGE, StandardCharsets.UTF_8);
        int start = page.indexOf(START);
        int end = page.indexOf(END);
        assertThat(start).as("the table's start marker in " + PAGE).isNotNegative();
        assertThat(end).as("the table's end marker in " + PAGE).isGreaterThan(start);
        String table = KpiContract.catalina().markdownTable();
        String current = page.substring(start + START.length(), end);
        if (Boolean.getBoolean("kpi.table.write")) {
            Files.writeString(PAGE, page.substring(0, start + START.length()) + table + page.substring(end),
                    StandardCharsets.UTF_8);
            return;
        }
        assertThat(current).as("the KPI table in src/docs/kpi.md is stale: rerun this test with "
                + "-Dkpi.table.write=true to regenerate it").isEqualTo(table);
    }
}
