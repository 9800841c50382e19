package dev.kextharness.junit;

import org.junit.platform.engine.OutputDirectoryCreator;
import org.junit.platform.engine.TestDescriptor;
import org.junit.platform.engine.reporting.FileEntry;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

/** Runs fixture test classes on the Jupiter engine, as a user's build would. */
final class Fixtures {
    private Fixtures() {
    }

    static EngineExecutionResults run(Class<?> fixture) {
        return run(fixture, Map.of());
    }

    static EngineExecutionResults run(Class<?> fixture, Map<String, String> configuration) {
        return EngineTestKit.engine("junit-jupiter")
                .configurationParameters(configuration)
                .outputDirectoryCreator(new TempOutputDirectories())
                .selectors(selectClass(fixture))
                .execute();
    }

    /** As EngineTestKit runs by default: without an output directory, so no test can publish a file. */
    static EngineExecutionResults runWithoutOutputDirectory(Class<?> fixture) {
        return EngineTestKit.engine("junit-jupiter")
                .selectors(selectClass(fixture))
                .execute();
    }

    /** Runs one method of a fixture, given as {@code Class#method} with its parameter types. */
    static EngineExecutionResults runMethod(Class<?> fixture, String methodWithParameters) {
        return EngineTestKit.engine("junit-jupiter")
                .outputDirectoryCreator(new TempOutputDirectories())
                .selectors(selectMethod(fixture.getName() + "#" + methodWithParameters))
                .execute();
    }

    /** The throwable each failed test ended with. */
    static List<Throwable> failures(EngineExecutionResults results) {
        return results.testEvents().failed().stream()
                .map(Fixtures::throwable)
                .toList();
    }

    static Throwable throwable(Event event) {
        return event.getPayload(org.junit.platform.engine.TestExecutionResult.class)
                .flatMap(org.junit.platform.engine.TestExecutionResult::getThrowable)
                .orElseThrow(() -> new AssertionError("no throwable in " + event));
    }

    /** The files the tests published, by file name, with their media types. */
    static List<FileEntry> files(EngineExecutionResults results) {
        return results.allEvents().fileEntryPublished().stream()
                .map(e -> e.getPayload(FileEntry.class).orElseThrow())
                .toList();
    }

    static String fileName(FileEntry entry) {
        return entry.getPath().getFileName().toString();
    }

    static String content(FileEntry entry) {
        try {
            return Files.readString(entry.getPath(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh directory per test descriptor under one temporary root, as a build tool would give. */
    private static final class TempOutputDirectories implements OutputDirectoryCreator {
        private final Path root;

        TempOutputDirectories() {
            try {
                root = Files.createTempDirectory("kextharness-junit-files");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Path getRootDirectory() {
            return root;
        }

        @Override
        public Path createOutputDirectory(TestDescriptor descriptor) throws IOException {
            return Files.createTempDirectory(root, "test");
        }
    }

    /** The values the tests published under this key, in publishing order. */
    static List<String> reportValues(EngineExecutionResults results, String key) {
        return results.allEvents().reportingEntryPublished().stream()
                .map(e -> e.getPayload(org.junit.platform.engine.reporting.ReportEntry.class).orElseThrow())
                .map(entry -> entry.getKeyValuePairs().get(key))
                .filter(java.util.Objects::nonNull)
                .toList();
    }
}
