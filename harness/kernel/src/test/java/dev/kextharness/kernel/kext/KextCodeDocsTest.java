package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The docs page on kext code prints the allowlist and the rules the link check enforces. */
class KextCodeDocsTest {
    private static final Path PAGE = Path.of("../../src/docs/kext-code.md");

    private static String block(String page, String name) {
        String begin = "<!-- generated from " + name + ": begin -->\n";
        String end = "<!-- generated from " + name + ": end -->";
        int from = page.indexOf(begin);
        int to = page.indexOf(end);
        assertThat(from).as("the page has the " + name + " block").isNotNegative();
        return page.substring(from + begin.length(), to);
    }

    @Test
    void thePageListsTheAllowlistAsTheCodeHasIt() throws IOException {
        String page = Files.readString(PAGE);
        assertThat(block(page, "JdkAllowlist"))
                .as("src/docs/kext-code.md's allowlist; replace the block with JdkAllowlist.markdown()")
                .isEqualTo(JdkAllowlist.markdown());
        assertThat(block(page, "CodeRule")).as("replace the block with CodeRule.markdown()")
                .isEqualTo(CodeRule.markdown());
    }

    @Test
    void everyRuleTagOfTheCheckIsExplainedOnThePage() throws IOException {
        String page = Files.readString(PAGE);
        for (CodeRule rule : CodeRule.values()) {
            assertThat(page).contains("`[" + rule.tag + "]`");
        }
        assertThat(page).contains("[kernel-private]", "[harness library]", "[shared state]", "[shared code]");
    }
}
