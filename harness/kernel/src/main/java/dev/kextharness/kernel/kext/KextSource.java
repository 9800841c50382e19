package dev.kextharness.kernel.kext;

import dev.kextharness.kpi.Kext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Where a kext's class files come from: the class path of an already compiled kext class, or a
 * jar file. A source only reads bytes; linking and defining happen at load, in a class loader of
 * the kext's own.
 *
 * <p>Stability: stable.
 */
public final class KextSource {
    private final String kextClassName;
    private final ClassLoader parent;
    private final Scope scope;
    private final Object cacheKey;
    private final String description;

    /** Which class files belong to the kext, and their bytes. */
    private interface Scope {
        /** The bytes of a class of the kext's, or null if the class is not part of it. */
        byte[] bytes(String internalName);

        /** True if the class comes from where the kext itself comes from (its class path entry or jar). */
        boolean inCodeBase(String internalName);
    }

    private KextSource(String kextClassName, ClassLoader parent, Scope scope, Object cacheKey, String description) {
        this.kextClassName = kextClassName;
        this.parent = parent;
        this.scope = scope;
        this.cacheKey = cacheKey;
        this.description = description;
    }

    /**
     * A kext compiled onto the class path. Its code is every class it reaches that is not the JDK,
     * the KPI or the harness ({@link KextCode}), from any package and any class path entry. Classes
     * under {@code dev.kextharness} are the kext's only in its own class path entry (test fixtures).
     */
    public static KextSource of(Class<? extends Kext> kextClass) {
        Objects.requireNonNull(kextClass, "kextClass");
        ClassLoader loader = kextClass.getClassLoader();
        if (loader == null) {
            throw new IllegalArgumentException(kextClass.getName() + " was loaded by the boot class loader; "
                    + "a kext class must come from the class path or a jar");
        }
        String internal = internalName(kextClass.getName());
        URL self = loader.getResource(internal + ".class");
        if (self == null) {
            throw new IllegalArgumentException("the class file of " + kextClass.getName() + " cannot be read from its "
                    + "class loader (" + loader + "); a kext must be loaded from class files, not generated at run time");
        }
        String root = self.toExternalForm();
        root = root.substring(0, root.length() - (internal + ".class").length());
        return new KextSource(kextClass.getName(), loader, new ClassPathScope(loader, root),
                kextClass, "class path entry " + root);
    }

    /** A kext in a jar file, linked against the harness's own class path (the KPI and the JDK). */
    public static KextSource fromJar(Path jar, String kextClassName) {
        return fromJar(jar, kextClassName, KextSource.class.getClassLoader());
    }

    /**
     * A kext in a jar file: every class of the jar the kext class reaches is the kext's, and so is
     * every library class it reaches through {@code parent} that is not the JDK, the KPI or the
     * harness. {@code parent} must see the KPI.
     */
    public static KextSource fromJar(Path jar, String kextClassName, ClassLoader parent) {
        Objects.requireNonNull(jar, "jar");
        Objects.requireNonNull(kextClassName, "kextClassName");
        Objects.requireNonNull(parent, "parent");
        Map<String, byte[]> classes = readJar(jar);
        String internal = internalName(kextClassName);
        if (!classes.containsKey(internal)) {
            List<String> some = classes.keySet().stream().sorted().limit(10).map(KextSource::binaryName).toList();
            throw new IllegalArgumentException("jar " + jar + " has no class " + kextClassName + " (no entry "
                    + internal + ".class); it holds " + classes.size() + " classes, such as " + some);
        }
        Scope scope = new Scope() {
            @Override
            public byte[] bytes(String internalName) {
                byte[] own = classes.get(internalName);
                return own != null ? own : KextCode.libraryBytes(parent, internalName);
            }

            @Override
            public boolean inCodeBase(String internalName) {
                return classes.containsKey(internalName);
            }
        };
        return new KextSource(kextClassName, parent, scope, new JarKey(jar, kextClassName, parent), "jar " + jar);
    }

    /**
     * A kext in a class directory, for when its class cannot be loaded to call {@link #of} (a
     * corrupt class file, say): every class under the directory the kext class reaches is the
     * kext's; anything else resolves through {@code parent}.
     */
    public static KextSource fromDirectory(Path directory, String kextClassName, ClassLoader parent) {
        Objects.requireNonNull(directory, "directory");
        Objects.requireNonNull(kextClassName, "kextClassName");
        Objects.requireNonNull(parent, "parent");
        Path root = directory.toAbsolutePath().normalize();
        Scope scope = new Scope() {
            @Override
            public byte[] bytes(String internalName) {
                Path file = root.resolve(internalName + ".class");
                try {
                    return Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read class file " + file + ": " + e.getMessage(), e);
                }
            }

            @Override
            public boolean inCodeBase(String internalName) {
                return Files.isRegularFile(root.resolve(internalName + ".class"));
            }
        };
        return new KextSource(kextClassName, parent, scope, new DirectoryKey(root, kextClassName, parent),
                "directory " + root);
    }

    /** A directory source's identity for the link cache (a directory is read once per JVM). */
    private record DirectoryKey(Path root, String kextClassName, ClassLoader parent) {
    }

    private static Map<String, byte[]> readJar(Path jar) {
        Map<String, byte[]> classes = new HashMap<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                String name = entry.getName();
                // Multi-release variants and module descriptors are not kext classes.
                if (entry.isDirectory() || !name.endsWith(".class") || name.startsWith("META-INF/")
                        || name.endsWith("module-info.class")) {
                    continue;
                }
                try (InputStream in = file.getInputStream(entry)) {
                    classes.put(name.substring(0, name.length() - ".class".length()), in.readAllBytes());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kext jar " + jar + ": " + e.getMessage(), e);
        }
        return classes;
    }

    /** The kext class's binary name. */
    public String kextClassName() {
        return kextClassName;
    }

    @Override
    public String toString() {
        return kextClassName + " from " + description;
    }

    /** Where the kext's classes come from: {@code class path entry <url>} or {@code jar <path>}. */
    String description() {
        return description;
    }

    ClassLoader parent() {
        return parent;
    }

    /** The bytes of a class that belongs to the kext, or null. */
    byte[] bytes(String internalName) {
        return scope.bytes(internalName);
    }

    /**
     * True if the class comes from the kext's own class path entry or jar: the kext's code base,
     * which may use packages of any name (test fixtures live under dev.kextharness, for one).
     */
    boolean inCodeBase(String internalName) {
        return scope.inCodeBase(internalName);
    }

    /** Equal for two sources of the same kext class: the link cache's key. */
    Object cacheKey() {
        return cacheKey;
    }

    /** The kext class itself, for a class path source; null for a jar. */
    Class<?> kextClass() {
        return cacheKey instanceof Class<?> c ? c : null;
    }

    static String internalName(String binaryName) {
        return binaryName.replace('.', '/');
    }

    static String binaryName(String internalName) {
        return internalName.replace('/', '.');
    }

    /** Kext code read through a class loader; {@code root} is the kext's own class path entry. */
    private record ClassPathScope(ClassLoader loader, String root) implements Scope {
        @Override
        public boolean inCodeBase(String internalName) {
            URL url = loader.getResource(internalName + ".class");
            return url != null && url.toExternalForm().startsWith(root);
        }

        @Override
        public byte[] bytes(String internalName) {
            if (internalName.startsWith(KextCode.HARNESS) && !internalName.startsWith(KextCode.KPI)) {
                // dev.kextharness: the kext's own only in its class path entry (fixtures); else the kernel's.
                URL url = loader.getResource(internalName + ".class");
                return url != null && url.toExternalForm().startsWith(root) ? read(url) : null;
            }
            return KextCode.libraryBytes(loader, internalName);
        }
    }

    static byte[] read(URL url) {
        try (InputStream in = url.openStream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read class file " + url + ": " + e.getMessage(), e);
        }
    }

    /** A jar's identity for the cache: a rewritten or touched jar is linked again. */
    private record JarKey(Path path, long modified, long size, String kextClassName, ClassLoader parent) {
        JarKey(Path jar, String kextClassName, ClassLoader parent) {
            this(jar.toAbsolutePath().normalize(), attributes(jar).lastModifiedTime().toMillis(), attributes(jar).size(),
                    kextClassName, parent);
        }

        private static BasicFileAttributes attributes(Path jar) {
            try {
                return Files.readAttributes(jar, BasicFileAttributes.class);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read kext jar " + jar + ": " + e.getMessage(), e);
            }
        }
    }
}
