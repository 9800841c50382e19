package dev.kextharness.junit;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.CompositeArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import dev.kextharness.kernel.kext.KextLinkCheck;
import dev.kextharness.kernel.kext.KextLinkException.Unresolved;
import dev.kextharness.kpi.Kext;
import org.apiguardian.api.API;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

/**
 * The kernel's link contract for kext code, checked at build time rather than at kextload. Each
 * rule runs the link step itself ({@link KextLinkCheck}) on every kext class, so a kext that
 * passes links, and one that fails the link fails here with the same words: every class the kext
 * can run (any package, any jar, the interfaces it shares with its test) against the KPI and the
 * JDK allowlist of {@code src/docs/kext-code.md}.
 *
 * <p>Without ArchUnit's importer, fast and quiet:
 * <pre>
 * &#64;Test void kextsLink() { KextRules.check("com.example.kexts"); }
 * </pre>
 * or as ArchUnit rules, over classes you import:
 * <pre>
 * KextRules.ALL.check(new ClassFileImporter().importPackages("com.example.kexts"));
 * </pre>
 *
 * <p>Stability: experimental.
 */
@API(status = API.Status.EXPERIMENTAL, since = "0.1")
public final class KextRules {
    private KextRules() {
    }

    private static final Set<String> THREAD = Set.of("thread");
    private static final Set<String> REFLECTION = Set.of("reflection");

    /** The kernel reads a kext's identity from {@code @KextBundle} and instantiates it without arguments. */
    public static final ArchRule KEXTS_ARE_BUNDLES = kexts()
            .should(report("be loadable kexts (@KextBundle, a public no-argument constructor)",
                    r -> r.problem() == null ? List.of() : List.of(r.problem())))
            .because("kextload reads the bundle identifier from @KextBundle and calls the public no-argument "
                    + "constructor, as a kext's Info.plist and kmod_info do");

    /** Every symbol every class of the kext uses resolves: kxld's whole message when one does not. */
    public static final ArchRule KEXTS_LINK = kexts()
            .should(report("link: use only the KPI, the JDK allowlist and their own classes",
                    r -> r.unresolved().isEmpty() ? List.of() : List.of(r.unresolvedMessage())))
            .because("kextload refuses any other symbol with this message");

    /** The unresolved symbols other than threads and reflection: the KPI, the kernel, the JDK allowlist. */
    public static final ArchRule KEXTS_USE_ONLY_THE_KPI = kexts()
            .should(symbols("use only the KPI, the JDK allowlist and their own classes",
                    tag -> !THREAD.contains(tag) && !REFLECTION.contains(tag)))
            .because("the kernel's link step refuses these symbols");

    /** Threads belong to the kernel. */
    public static final ArchRule KEXTS_CREATE_NO_THREADS = kexts()
            .should(symbols("create no threads", THREAD::contains))
            .because("a kext's work must stay on the kernel's threads and in its ledger; the link step refuses threads");

    /** Reflection would reach past the KPI into the kernel. */
    public static final ArchRule KEXTS_USE_NO_REFLECTION = kexts()
            .should(symbols("use no reflection", REFLECTION::contains))
            .because("reflection and class loading would let a kext reach past the KPI; the link step refuses them");

    /** Every kext is a loadable bundle and links: what kextload checks, with its words. */
    public static final ArchRule ALL = CompositeArchRule.of(KEXTS_ARE_BUNDLES).and(KEXTS_LINK);

    /**
     * Checks every kext class (a concrete class implementing {@link Kext}) of these packages and their
     * subpackages, as found on the context class loader, without ArchUnit's importer.
     *
     * @throws AssertionError naming each kext that would not load and why, in kextload's words;
     *                        or if the packages hold no kext class at all (a misspelt package)
     */
    public static void check(String... packages) {
        ClassLoader loader = loader();
        List<Class<? extends Kext>> kexts = new ArrayList<>();
        for (String pkg : packages) {
            for (String name : classNames(loader, pkg)) {
                Class<?> type;
                try {
                    type = Class.forName(name, false, loader);
                } catch (ClassNotFoundException | LinkageError e) {
                    continue; // not loadable here: no kext of ours
                }
                if (isConcreteKext(type)) {
                    kexts.add(type.asSubclass(Kext.class));
                }
            }
        }
        if (kexts.isEmpty()) {
            throw new AssertionError("KextRules.check found no kext class (a concrete class implementing "
                    + Kext.class.getName() + ") in " + String.join(", ", packages)
                    + " on the class path; check the package names");
        }
        List<String> failures = new ArrayList<>();
        for (Class<? extends Kext> kext : kexts) {
            failures.addAll(messages(KextLinkCheck.check(kext)));
        }
        if (!failures.isEmpty()) {
            throw new AssertionError(failures.size() + " kext check" + (failures.size() == 1 ? "" : "s")
                    + " failed:\n\n" + String.join("\n\n", failures));
        }
    }

    /** What kextload would say about this kext: its validation problem, then kxld's unresolved symbols. */
    static List<String> messages(KextLinkCheck.Report report) {
        List<String> out = new ArrayList<>();
        if (report.problem() != null) {
            out.add(report.problem());
        }
        if (!report.unresolved().isEmpty()) {
            out.add(report.unresolvedMessage());
        }
        return out;
    }

    private static ClassLoader loader() {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        return context != null ? context : KextRules.class.getClassLoader();
    }

    private static boolean isConcreteKext(Class<?> type) {
        return Kext.class.isAssignableFrom(type) && !type.isInterface()
                && !java.lang.reflect.Modifier.isAbstract(type.getModifiers());
    }

    /** Binary names of the class files of a package and its subpackages, from directories and jars. */
    private static Set<String> classNames(ClassLoader loader, String pkg) {
        String dir = pkg.replace('.', '/');
        Set<String> out = new TreeSet<>();
        try {
            Enumeration<URL> roots = loader.getResources(dir);
            while (roots.hasMoreElements()) {
                URL url = roots.nextElement();
                if (url.getProtocol().equals("file")) {
                    Path root = Path.of(url.toURI());
                    try (Stream<Path> files = Files.walk(root)) {
                        files.filter(f -> f.toString().endsWith(".class")).forEach(f -> out.add(pkg + "."
                                + root.relativize(f).toString().replace(root.getFileSystem().getSeparator(), ".")
                                .replaceAll("\\.class$", "")));
                    }
                } else if (url.getProtocol().equals("jar")) {
                    JarURLConnection connection = (JarURLConnection) url.openConnection();
                    connection.setUseCaches(false);
                    try (JarFile jar = connection.getJarFile()) {
                        Enumeration<JarEntry> entries = jar.entries();
                        while (entries.hasMoreElements()) {
                            String name = entries.nextElement().getName();
                            if (name.startsWith(dir + "/") && name.endsWith(".class") && !name.startsWith("META-INF/")) {
                                out.add(name.substring(0, name.length() - ".class".length()).replace('/', '.'));
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the classes of package " + pkg + ": " + e.getMessage(), e);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot list the classes of package " + pkg + ": " + e.getMessage(), e);
        }
        out.removeIf(name -> name.endsWith("package-info") || name.endsWith("module-info"));
        return out;
    }

    private static com.tngtech.archunit.lang.syntax.elements.GivenClassesConjunction kexts() {
        return classes().that().implement(Kext.class).and().areNotInterfaces()
                .and().doNotHaveModifier(JavaModifier.ABSTRACT);
    }

    /** One violation per message the link check's report gives for a kext. */
    private static ArchCondition<JavaClass> report(String description,
                                                   Function<KextLinkCheck.Report, List<String>> messages) {
        return new ArchCondition<>(description) {
            @Override
            public void check(JavaClass kext, ConditionEvents events) {
                for (String message : messages.apply(KextLinkCheck.check(kext.reflect().asSubclass(Kext.class)))) {
                    events.add(SimpleConditionEvent.violated(kext, message));
                }
            }
        };
    }

    /** One violation per unresolved symbol whose rule tag matches, in kxld's words for one symbol. */
    private static ArchCondition<JavaClass> symbols(String description, Predicate<String> tags) {
        return report(description, r -> {
            List<String> out = new ArrayList<>();
            for (Unresolved u : r.unresolved()) {
                if (tags.test(u.rule())) {
                    out.add(r.bundleId() + ": " + u.symbol() + " referenced from " + u.referencedFrom()
                            + "   [" + u.rule() + "]");
                }
            }
            return out;
        });
    }
}
