package dev.kextharness.cli.project;

import dev.kextharness.cli.ExitCodes;
import dev.kextharness.cli.KextHarnessCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import picocli.CommandLine.Help.Ansi;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code kext-harness new}: the names it derives, the files it writes, and its one-line errors.
 * That the written project builds and passes (and fails on a planted leak) is proved by the
 * consumer projects src/it/new-kext-project and new-kext-project-leak.
 */
class NewCommandTest {

    record Result(int exitCode, String out, String err) {
    }

    private static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = KextHarnessCli.commandLine(new PrintWriter(out), new PrintWriter(err), Ansi.OFF).execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test
    void namesComeFromTheBundleId() {
        ProjectNames hello = ProjectNames.of("com.example.kext-hello");
        assertThat(hello.groupId()).isEqualTo("com.example");
        assertThat(hello.artifactId()).isEqualTo("kext-hello");
        assertThat(hello.javaPackage()).isEqualTo("com.example.kext_hello");
        assertThat(hello.kextClass()).isEqualTo("HelloKext");
        assertThat(hello.serviceClass()).isEqualTo("HelloService");

        assertThat(ProjectNames.of("cn.junkman.kext-memleak").kextClass()).isEqualTo("MemleakKext");
        assertThat(ProjectNames.of("org.acme.net-filter-kext").kextClass()).isEqualTo("NetFilterKext");
        assertThat(ProjectNames.of("org.acme.kext").kextClass()).isEqualTo("MyKext");
        assertThat(ProjectNames.of("org.acme.3com").kextClass()).isEqualTo("My3comKext");
        // Words Java cannot take as package names still give a valid package.
        assertThat(ProjectNames.of("com.Example.new.2fast").javaPackage()).isEqualTo("com.example.new_._2fast");
    }

    @Test
    void writesABuildableProjectWithEveryPlaceholderFilled(@TempDir Path dir) throws Exception {
        Path project = dir.resolve("kext-hello");
        Result r = run("new", "com.example.kext-hello", "--directory", project.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).startsWith("Wrote the kext com.example.kext-hello (com.example.kext_hello.HelloKext) to ")
                .contains("  src/main/java/com/example/kext_hello/HelloKext.java\n")
                .contains("  src/test/java/com/example/kext_hello/HelloKextTest.java\n")
                .endsWith("Next: cd " + project + " && mvn verify\n");
        Map<String, String> files = new LinkedHashMap<>();
        try (Stream<Path> walk = Files.walk(project)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                files.put(project.relativize(file).toString(), Files.readString(file));
            }
        }
        assertThat(files).containsOnlyKeys("pom.xml", "README.md", ".gitignore",
                "src/main/java/com/example/kext_hello/HelloKext.java",
                "src/main/java/com/example/kext_hello/HelloService.java",
                "src/test/java/com/example/kext_hello/HelloKextTest.java",
                "src/test/java/com/example/kext_hello/KextRulesTest.java",
                "src/test/resources/junit-platform.properties");
        assertThat(files.values()).noneMatch(text -> text.contains("{{"));
        String kext = files.get("src/main/java/com/example/kext_hello/HelloKext.java");
        assertThat(kext).contains("package com.example.kext_hello;")
                .contains("@KextBundle(id = \"com.example.kext-hello\"")
                .contains("public class HelloKext implements Kext, HelloService")
                .containsOnlyOnce("_FREE(count, M_TEMP);"); // the line the leaky consumer project deletes
        // Public KPI only: the kext must link whether or not it declares com.apple.kpi.unsupported.
        assertThat(kext).doesNotContain("kalloc").doesNotContain("kfree");
        assertThat(files.get("src/test/java/com/example/kext_hello/HelloKextTest.java"))
                .contains("@KextTest").contains("@FailEachAllocation");
        assertThat(files.get("src/test/java/com/example/kext_hello/KextRulesTest.java"))
                .contains("KextRules.ALL.check(new ClassFileImporter().importPackages(\"com.example.kext_hello\"))");
        assertThat(files.get("pom.xml")).contains("<groupId>com.example</groupId>")
                .contains("<artifactId>kext-hello</artifactId>")
                .contains("<artifactId>kext-harness-bom</artifactId>")
                .containsPattern("<kext-harness.version>\\d+\\.\\d+\\.\\d+(-SNAPSHOT)?</kext-harness.version>")
                .contains("<dependencyConvergence/>");
    }

    /** The generated build pins the same plugin versions as the harness's own build, so both move together. */
    @Test
    void theGeneratedPomPinsThePluginVersionsOfTheHarnessBuild(@TempDir Path dir) throws Exception {
        run("new", "com.example.kext-hello", "--directory", dir.resolve("p").toString());
        Map<String, String> generated = pluginVersions(dir.resolve("p/pom.xml"));
        Map<String, String> harness = pluginVersions(Path.of("../../pom.xml"));

        assertThat(generated).isNotEmpty();
        generated.forEach((plugin, version) ->
                assertThat(version).as(plugin).isEqualTo(harness.get(plugin)));
    }

    private static Map<String, String> pluginVersions(Path pom) throws Exception {
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
        NodeList plugins = doc.getElementsByTagName("plugin");
        Map<String, String> versions = new LinkedHashMap<>();
        for (int i = 0; i < plugins.getLength(); i++) {
            String artifactId = child((Element) plugins.item(i), "artifactId");
            String version = child((Element) plugins.item(i), "version");
            if (version != null) {
                versions.put(artifactId, version);
            }
        }
        return versions;
    }

    /** The text of {@code parent}'s own child element {@code name} (not of a deeper one, such as a rule's version). */
    private static String child(Element parent, String name) {
        for (var node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
            if (node instanceof Element e && e.getTagName().equals(name)) {
                return e.getTextContent().trim();
            }
        }
        return null;
    }

    @Test
    void aBadBundleIdIsOneLineAndStatus2(@TempDir Path dir) {
        Result r = run("new", "hello", "--directory", dir.resolve("p").toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).isEqualTo("kext-harness new: 'hello' is not a bundle id: give two or more words of "
                + "letters, digits and hyphens joined by dots, such as com.example.kext-hello\n");
        assertThat(r.out()).isEmpty();
        assertThat(dir.resolve("p")).doesNotExist();

        assertThat(run("new", "com.example.kext_hello").err()).contains("'com.example.kext_hello' is not a bundle id");
        assertThat(run("new", "com..hello").exitCode()).isEqualTo(ExitCodes.USAGE);
        Result tooLong = run("new", "com.example." + "k".repeat(60));
        assertThat(tooLong.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(tooLong.err()).contains("has 72 characters; XNU keeps at most 63").hasLineCount(1);
    }

    @Test
    void anExistingDirectoryIsOneLineAndStatus2AndIsLeftAlone(@TempDir Path dir) throws Exception {
        Path existing = Files.createDirectory(dir.resolve("kext-hello"));
        Files.writeString(existing.resolve("notes.txt"), "mine");

        Result r = run("new", "com.example.kext-hello", "--directory", existing.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).isEqualTo("kext-harness new: " + existing
                + " already exists: remove it, or give another with --directory\n");
        try (Stream<Path> left = Files.list(existing)) {
            assertThat(left).containsExactly(existing.resolve("notes.txt"));
        }
    }

    @Test
    void aMissingBundleIdIsAUsageError() {
        Result r = run("new");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).startsWith("kext-harness new: Missing required parameter: '<bundle-id>'");
    }

    @Test
    void namesThatAreNotBundleIdsAreRejectedBeforeAnythingIsWritten() {
        assertThatThrownBy(() -> ProjectNames.of("single")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProjectNames.of("com.example.")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProjectNames.of("com.exa mple.x")).isInstanceOf(IllegalArgumentException.class);
    }
}
