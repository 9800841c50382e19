package dev.kextharness.cli;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every output block of the teaching guide ({@code <!-- run: ARGS -->} ... {@code <!-- end run -->}
 * in src/docs) is what {@code kext-harness ARGS} prints today, so the guide cannot drift from the
 * program. {@code src/docs/refresh-outputs} rewrites the blocks when the output changes on purpose.
 */
class DocsOutputsTest {
    private static final Path DOCS = Path.of("../../src/docs");
    private static final Pattern RUN = Pattern.compile(
            "<!-- run: (.*) -->\\n```text\\n\\$ \\./kext-harness \\1\\n(.*?)```\\n<!-- end run -->", Pattern.DOTALL);

    @TestFactory
    Stream<DynamicTest> everyCapturedOutputIsWhatTheCommandPrintsNow() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        try (Stream<Path> files = Files.list(DOCS)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".md")).sorted().toList()) {
                String text = Files.readString(file);
                Matcher m = RUN.matcher(text);
                long markers = text.lines().filter(l -> l.startsWith("<!-- run: ")).count();
                long blocks = 0;
                while (m.find()) {
                    blocks++;
                    String args = m.group(1);
                    String shown = m.group(2);
                    tests.add(DynamicTest.dynamicTest(file.getFileName() + ": kext-harness " + args, () ->
                            assertThat(stripTrailing(Cli.run(args.split(" ")).out()))
                                    .as("the output shown in " + file + "; if the change is meant, recapture it with "
                                            + "src/docs/refresh-outputs")
                                    .isEqualTo(stripTrailing(shown))));
                }
                assertThat(blocks).as(file + ": every <!-- run: --> marker is followed by a well-formed output block "
                        + "(run src/docs/refresh-outputs)").isEqualTo(markers);
            }
        }
        assertThat(tests).as("output blocks in " + DOCS.toAbsolutePath().normalize()).isNotEmpty();
        return tests.stream();
    }

    private static String stripTrailing(String text) {
        return String.join("\n", text.lines().map(String::stripTrailing).toList());
    }
}
