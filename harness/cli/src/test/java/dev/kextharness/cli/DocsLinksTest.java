package dev.kextharness.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The documentation is self-contained: every link in every Markdown file of the repository points
 * to a file of the repository that exists (and, with a {@code #fragment}, to a heading of it). A
 * link with a scheme ({@code https:}, {@code file:}), an absolute path, or a path that climbs out
 * of the repository fails, since a clone has nothing there.
 */
class DocsLinksTest {
    private static final Path ROOT = Path.of("../..").toAbsolutePath().normalize();

    /** Directories that hold build output or another tool's files, not documentation. */
    private static final Set<String> SKIPPED = Set.of("target", ".git", ".idea", ".vscode", "node_modules");

    @Test
    void everyLinkInTheRepositoryStaysInsideItAndFindsItsTarget() throws IOException {
        List<Path> pages = markdownFiles(ROOT);
        assertThat(pages).as("Markdown files under " + ROOT).contains(ROOT.resolve("README.md"),
                ROOT.resolve("src/docs/xnu-facts.md"));
        List<String> problems = new ArrayList<>();
        for (Path page : pages) {
            problems.addAll(problems(ROOT, page, Files.readString(page)));
        }
        assertThat(problems).as("broken or outgoing links").isEmpty();
    }

    @Test
    void aLinkOutOfTheRepositoryOrToAMissingFileOrHeadingIsAProblem(@TempDir Path repo) throws IOException {
        Files.createDirectories(repo.resolve("docs"));
        Files.writeString(repo.resolve("docs/facts.md"), "# Facts\n\n## Zone map size\n");
        Path page = repo.resolve("docs/page.md");
        String text = """
                Good: [facts](facts.md), [a heading](facts.md#zone-map-size), [up](../docs/facts.md).
                Outside: [sheet](../../shared/xnu-facts.md) and [web](https://example.com/x).
                Absolute: [abs](/etc/passwd). Missing: [gone](nothing.md), [no heading](facts.md#nope).
                An image: ![chart](img/missing.png). A reference: [ref].

                [ref]: http://example.org/

                ```
                [in a code block](../../outside.md) is text, not a link
                ```
                And `[in code](../../x.md)` too.
                """;
        List<String> problems = problems(repo, page, text);
        assertThat(problems).hasSize(7).allMatch(p -> p.startsWith("docs/page.md:"));
        assertThat(String.join("\n", problems))
                .contains("../../shared/xnu-facts.md: leaves the repository")
                .contains("https://example.com/x: leaves the repository")
                .contains("/etc/passwd: leaves the repository")
                .contains("nothing.md: no such file")
                .contains("facts.md#nope: no heading 'nope' in docs/facts.md")
                .contains("img/missing.png: no such file")
                .contains("http://example.org/: leaves the repository")
                .doesNotContain("outside.md").doesNotContain("x.md");
    }

    static List<Path> markdownFiles(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> p.toString().endsWith(".md"))
                    .filter(p -> {
                        for (Path part : root.relativize(p)) {
                            if (SKIPPED.contains(part.toString())) {
                                return false;
                            }
                        }
                        return true;
                    })
                    .sorted().toList();
        }
    }

    private static final Pattern FENCE = Pattern.compile("(?m)^( {0,3})(```|~~~).*?^\\1\\2[^\\n]*$", Pattern.DOTALL);
    private static final Pattern CODE_SPAN = Pattern.compile("(`+)(?s:.+?)\\1");
    private static final Pattern INLINE = Pattern.compile("!?\\[[^\\]]*]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern REFERENCE = Pattern.compile("(?m)^ {0,3}\\[[^\\]]+]:\\s*<?(\\S+?)>?(?:\\s.*)?$");
    private static final Pattern HTML = Pattern.compile("(?i)(?:href|src)\\s*=\\s*\"([^\"]+)\"");
    private static final Pattern AUTOLINK = Pattern.compile("<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\\s]+)>");
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

    /** What is wrong with the links of {@code page} (text {@code text}) in the repository {@code root}. */
    static List<String> problems(Path root, Path page, String text) throws IOException {
        String prose = CODE_SPAN.matcher(FENCE.matcher(text).replaceAll("")).replaceAll("");
        List<String> targets = new ArrayList<>();
        for (Pattern link : List.of(INLINE, REFERENCE, HTML, AUTOLINK)) {
            Matcher m = link.matcher(prose);
            while (m.find()) {
                targets.add(m.group(1));
            }
        }
        List<String> problems = new ArrayList<>();
        String where = root.relativize(page) + ": ";
        for (String target : targets) {
            String problem = problem(root, page, target);
            if (problem != null) {
                problems.add(where + target + ": " + problem);
            }
        }
        return problems;
    }

    private static String problem(Path root, Path page, String target) throws IOException {
        if (SCHEME.matcher(target).find() || target.startsWith("/")) {
            return "leaves the repository (a clone has nothing there); cite a page of the repository instead";
        }
        int hash = target.indexOf('#');
        String path = hash < 0 ? target : target.substring(0, hash);
        String fragment = hash < 0 ? null : target.substring(hash + 1);
        Path file = path.isEmpty() ? page : page.getParent().resolve(path).normalize();
        if (!file.startsWith(root)) {
            return "leaves the repository (a clone has nothing there); cite a page of the repository instead";
        }
        if (!Files.exists(file)) {
            return "no such file";
        }
        if (fragment != null && file.toString().endsWith(".md") && !anchors(Files.readString(file)).contains(fragment)) {
            return "no heading '" + fragment + "' in " + root.relativize(file);
        }
        return null;
    }

    /** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens. */
    static Set<String> anchors(String markdown) {
        Set<String> anchors = new HashSet<>();
        Matcher heading = Pattern.compile("(?m)^#{1,6}\\s+(.+?)\\s*#*\\s*$").matcher(FENCE.matcher(markdown).replaceAll(""));
        while (heading.find()) {
            String slug = heading.group(1).toLowerCase(Locale.ROOT)
                    .replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
            String unique = slug;
            for (int n = 1; !anchors.add(unique); n++) {
                unique = slug + "-" + n;
            }
        }
        return anchors;
    }
}
