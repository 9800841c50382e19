package dev.kextharness.cli.project;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The files of a new kext project, from the templates beside this class: each template's
 * {@code {{name}}} placeholders are filled from the project's names and from the versions this
 * build of the harness was made with.
 */
public final class ProjectTemplate {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([A-Za-z]+)}}");

    private final Map<String, String> values;

    private ProjectTemplate(Map<String, String> values) {
        this.values = values;
    }

    /** The template for {@code names}, with this harness's own version and the JUnit it was built with. */
    public static ProjectTemplate of(ProjectNames names) {
        Properties versions = new Properties();
        try (InputStream in = ProjectTemplate.class.getResourceAsStream("versions.properties")) {
            if (in == null) {
                throw new IllegalStateException("versions.properties is missing from the command line's jar");
            }
            versions.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        values.put("bundleId", names.bundleId());
        values.put("groupId", names.groupId());
        values.put("artifactId", names.artifactId());
        values.put("package", names.javaPackage());
        values.put("packagePath", names.javaPackage().replace('.', '/'));
        values.put("kextClass", names.kextClass());
        values.put("serviceClass", names.serviceClass());
        values.put("harnessVersion", versions.getProperty("kextHarnessVersion"));
        values.put("junitVersion", versions.getProperty("junitVersion"));
        return new ProjectTemplate(values);
    }

    /** Each file of the project, by its path inside the project directory, with its content. */
    public Map<String, String> files() {
        String java = "src/main/java/" + values.get("packagePath") + "/";
        String test = "src/test/java/" + values.get("packagePath") + "/";
        Map<String, String> files = new LinkedHashMap<>();
        files.put("pom.xml", render("pom.xml.tmpl"));
        files.put("README.md", render("README.md.tmpl"));
        files.put(".gitignore", render("gitignore.tmpl"));
        files.put(java + values.get("kextClass") + ".java", render("Kext.java.tmpl"));
        files.put(java + values.get("serviceClass") + ".java", render("Service.java.tmpl"));
        files.put(test + values.get("kextClass") + "Test.java", render("KextTest.java.tmpl"));
        files.put(test + "KextRulesTest.java", render("KextRulesTest.java.tmpl"));
        files.put("src/test/resources/junit-platform.properties", render("junit-platform.properties.tmpl"));
        return files;
    }

    /**
     * Writes the project into {@code directory}, which must not exist yet (its parent is created if
     * need be); the paths written, relative to {@code directory}.
     */
    public List<String> writeTo(Path directory) throws IOException {
        Files.createDirectories(directory.toAbsolutePath().getParent());
        Files.createDirectory(directory);
        List<String> written = new ArrayList<>();
        for (Map.Entry<String, String> file : files().entrySet()) {
            Path path = directory.resolve(file.getKey());
            Files.createDirectories(path.getParent());
            Files.writeString(path, file.getValue(), StandardCharsets.UTF_8);
            written.add(file.getKey());
        }
        return written;
    }

    private String render(String template) {
        String text;
        try (InputStream in = ProjectTemplate.class.getResourceAsStream("template/" + template)) {
            if (in == null) {
                throw new IllegalStateException("template " + template + " is missing from the command line's jar");
            }
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String value = values.get(m.group(1));
            if (value == null) {
                throw new IllegalStateException("template " + template + " has an unknown placeholder " + m.group());
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }
}
