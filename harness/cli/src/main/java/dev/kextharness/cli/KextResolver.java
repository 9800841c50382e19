package dev.kextharness.cli;

import dev.kextharness.kernel.kext.KextSource;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.samples.Sample;
import dev.kextharness.samples.SampleCatalog;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

/**
 * Turns a {@code <kext>} argument into a {@link KextTarget}: a sample name of the catalog, a jar
 * file, or a fully qualified class name (from {@code --classpath}, or the harness's own class
 * path). Anything it cannot resolve is a usage error naming what was tried.
 */
public final class KextResolver {
    private final CommandLine commandLine;

    public KextResolver(CommandLine commandLine) {
        this.commandLine = commandLine;
    }

    public KextTarget resolve(String argument, boolean twin, Path classpath, String className) {
        if (argument.endsWith(".jar") || isFile(argument)) {
            requireNoTwin(twin, argument);
            return fromJar(Path.of(argument), className);
        }
        Sample sample = SampleCatalog.find(argument).orElse(null);
        if (sample != null) {
            return KextTarget.sample(sample, twin);
        }
        requireNoTwin(twin, argument);
        if (argument.contains(".")) {
            return fromClass(argument, classpath);
        }
        throw usage("unknown kext '" + argument + "': not a sample (" + sampleNames() + "), a class name "
                + "(com.example.MyKext, with --classpath) or a jar");
    }

    private static boolean isFile(String argument) {
        try {
            return Files.isRegularFile(Path.of(argument));
        } catch (InvalidPathException e) {
            return false;
        }
    }

    static String sampleNames() {
        return SampleCatalog.all().stream().map(Sample::name).collect(Collectors.joining(", "));
    }

    private void requireNoTwin(boolean twin, String argument) {
        if (twin) {
            throw usage("--twin needs a sample name (" + sampleNames() + "); '" + argument + "' is not a sample");
        }
    }

    private KextTarget fromClass(String name, Path classpath) {
        ClassLoader loader = getClass().getClassLoader();
        if (classpath != null) {
            if (!Files.exists(classpath)) {
                throw usage("--classpath " + classpath + ": no such file or directory");
            }
            loader = new URLClassLoader("kext-classpath", new URL[]{url(classpath)}, loader);
        }
        Class<?> type;
        try {
            type = Class.forName(name, false, loader);
        } catch (ClassFormatError e) {
            if (classpath != null && Files.isDirectory(classpath)) {
                // Its class file is there but broken: the kernel's link refuses it, naming the problem (a load failure).
                return KextTarget.ofJar(name, KextSource.fromDirectory(classpath, name, getClass().getClassLoader()));
            }
            if (classpath != null) {
                return fromJar(classpath, name);
            }
            throw usage("kext class '" + name + "' cannot be loaded: " + e);
        } catch (ClassNotFoundException | LinkageError e) {
            throw usage("unknown kext class '" + name + "': not found on "
                    + (classpath != null ? classpath.toString() : "the harness's class path (give --classpath <dir|jar>)"));
        }
        return KextTarget.ofClass(asKext(type, name));
    }

    private Class<? extends Kext> asKext(Class<?> type, String name) {
        if (!Kext.class.isAssignableFrom(type)) {
            throw usage("'" + name + "' is not a kext: it does not implement " + Kext.class.getName());
        }
        return type.asSubclass(Kext.class);
    }

    private KextTarget fromJar(Path jar, String className) {
        if (!Files.isRegularFile(jar)) {
            throw usage("kext jar " + jar + ": no such file");
        }
        String name = className != null ? className : findKextClass(jar);
        try {
            return KextTarget.ofJar(jar.toString(), KextSource.fromJar(jar, name));
        } catch (IllegalArgumentException | java.io.UncheckedIOException e) {
            throw usage(KextHarnessCli.firstLine(e.getMessage()));
        }
    }

    /** The one class of the jar that implements Kext and carries @KextBundle. */
    private String findKextClass(Path jar) {
        List<String> found = new ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile());
             URLClassLoader loader = new URLClassLoader("kext-jar-scan", new URL[]{url(jar)}, getClass().getClassLoader())) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                String entry = entries.nextElement().getName();
                if (!entry.endsWith(".class") || entry.startsWith("META-INF/") || entry.endsWith("module-info.class")) {
                    continue;
                }
                String binary = entry.substring(0, entry.length() - ".class".length()).replace('/', '.');
                try {
                    Class<?> type = Class.forName(binary, false, loader);
                    if (Kext.class.isAssignableFrom(type) && type.isAnnotationPresent(KextBundle.class)
                            && !Modifier.isAbstract(type.getModifiers())) {
                        found.add(binary);
                    }
                } catch (ClassNotFoundException | LinkageError e) {
                    // not loadable without its own dependencies: not a kext of this jar
                }
            }
        } catch (IOException e) {
            throw usage("cannot read kext jar " + jar + ": " + e.getMessage());
        }
        if (found.size() == 1) {
            return found.get(0);
        }
        throw usage(found.isEmpty()
                ? "jar " + jar + " has no kext class (one implementing " + Kext.class.getName() + " with @KextBundle)"
                : "jar " + jar + " has " + found.size() + " kext classes (" + String.join(", ", found)
                        + "); name one with --class");
    }

    private URL url(Path path) {
        try {
            return path.toUri().toURL();
        } catch (MalformedURLException e) {
            throw usage("cannot use " + path + " as a class path entry: " + e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(commandLine, message);
    }
}
