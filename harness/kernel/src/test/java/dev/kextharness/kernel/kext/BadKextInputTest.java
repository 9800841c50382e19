package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.fixtures.RichKext;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input refused with what is wrong and what to do: a kext whose class files are cut short or
 * corrupt is a load failure naming the file and the problem (before any of it runs); a kext whose
 * bundle identifier a loaded kext has is refused with OSKext's own line and the reason.
 */
class BadKextInputTest {
    private static final String FIXTURES = "dev/kextharness/kernel/kext/fixtures/";
    private static final String RICH = RichKext.class.getName();

    private final Kernel kernel = Kernel.boot(KernelConfig.defaults());

    @TempDir
    Path temp;

    /** RichKext's package as class files under {@code root}, with {@code edit} applied to one class file. */
    private Path fixtures(Path root, String simpleName, UnaryOperator<byte[]> edit) throws IOException, URISyntaxException {
        Path from = Path.of(RichKext.class.getResource("RichKext.class").toURI()).getParent();
        Path to = Files.createDirectories(root.resolve(FIXTURES));
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                byte[] bytes = Files.readAllBytes(file);
                String name = file.getFileName().toString();
                Files.write(to.resolve(name), name.equals(simpleName + ".class") ? edit.apply(bytes) : bytes);
            }
        }
        return root;
    }

    private Path jarOf(Path classes) throws IOException {
        Path jar = temp.resolve("kext.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
             Stream<Path> files = Files.walk(classes)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                out.write(Files.readAllBytes(file));
                out.closeEntry();
            }
        }
        return jar;
    }

    private KextLoadException loadFails(KextSource source) {
        int from = kernel.log().size();
        KextLoadException e = catchThrowableOfType(KextLoadException.class, () -> kernel.kexts().load(source));
        assertThat(e).as("load of " + source).isNotNull();
        assertThat(kernel.kexts().loaded()).isEmpty();
        assertThat(kernel.panicked()).isFalse();
        assertThat(kernel.log().textSince(from)).as("the kernel never saw it").isEmpty();
        return e;
    }

    @Test
    void aTruncatedHelperClassIsALoadFailureNamingTheFileAndTheProblem() throws Exception {
        Path jar = jarOf(fixtures(temp.resolve("classes"), "RichHelper", b -> Arrays.copyOf(b, 100)));
        KextLoadException e = loadFails(KextSource.fromJar(jar, RICH));
        assertThat(e.result()).isEqualTo(KextReturn.VALIDATION);
        assertThat(e.bundleId()).isEqualTo("dev.kextharness.test.rich");
        assertThat(e.getMessage()).isEqualTo("dev.kextharness.test.rich failed to load - (libkern/kext) validation "
                + "failure; check the system/kernel logs for errors or try kextutil(8).\n"
                + RICH + " is not a loadable kext: its class file " + FIXTURES + "RichHelper.class (class "
                + "dev.kextharness.kernel.kext.fixtures.RichHelper, from jar " + jar + ") is truncated or corrupt: "
                + "reading its 100 bytes failed (ArrayIndexOutOfBoundsException: Index 110 out of bounds for length "
                + "100). Rebuild the kext; nothing of it was loaded.");
    }

    @Test
    void aKextClassThatIsNotAClassFileSaysWhatItStartsWith() throws Exception {
        Path classes = fixtures(temp.resolve("classes"), "RichKext", b -> "hello, world".getBytes());
        KextLoadException e = loadFails(KextSource.fromDirectory(classes, RICH, getClass().getClassLoader()));
        assertThat(e.bundleId()).as("no bundle could be read: the class names it").isEqualTo(RICH);
        assertThat(e.getMessage()).contains("its class file " + FIXTURES + "RichKext.class (class " + RICH
                + ", from directory " + classes.toAbsolutePath() + ") is not a class file: it starts with 0x68656c6c, "
                + "not 0xcafebabe. Rebuild the kext");
    }

    @Test
    void aClassFileTooShortOrFromTheFutureIsNamedAsSuch() throws Exception {
        Path shortClasses = fixtures(temp.resolve("short"), "RichHelper", b -> Arrays.copyOf(b, 4));
        assertThat(loadFails(KextSource.fromDirectory(shortClasses, RICH, getClass().getClassLoader())).getMessage())
                .contains("RichHelper.class (class dev.kextharness.kernel.kext.fixtures.RichHelper, from directory ")
                .contains(") is 4 bytes long, too short for a class file.");

        Path future = fixtures(temp.resolve("future"), "RichHelper", b -> {
            byte[] copy = b.clone();
            copy[6] = 0x01; // major version 0x0100 = 256
            copy[7] = 0x00;
            return copy;
        });
        assertThat(loadFails(KextSource.fromDirectory(future, RICH, getClass().getClassLoader())).getMessage())
                .contains("RichHelper.class")
                .contains("has class file version 256, which is newer than the harness reads")
                .contains("compile the kext for an older release");
    }

    @Test
    void theSameKextLoadedTwiceIsTheLoadedOneWithOSKextsNotice() {
        LoadedKext first = kernel.kexts().load(SameIdKext.class);
        int from = kernel.log().size();
        assertThat(kernel.kexts().load(SameIdKext.class)).isSameAs(first);
        assertThat(kernel.log().textSince(from)).containsExactly("Refusing new kext com.example.same, v1.0: a loaded "
                + "copy is already present (same version and executable).");
    }

    @Test
    void anotherKextWithALoadedBundleIdIsRefusedSayingWhy() {
        LoadedKext first = kernel.kexts().load(SameIdKext.class);
        int from = kernel.log().size();
        KextLoadException e = catchThrowableOfType(KextLoadException.class,
                () -> kernel.kexts().load(SameIdOtherKext.class));
        String refusal = "Refusing new kext com.example.same, v1.0: a loaded copy with a different executable UUID "
                + "is already present.";
        assertThat(kernel.log().textSince(from)).containsExactly(refusal);
        assertThat(e.result()).isEqualTo(KextReturn.LOADED_VERSION_DIFFERS);
        assertThat(e.log()).containsExactly(refusal);
        assertThat(e.getMessage()).startsWith("com.example.same failed to load - (libkern/kext) different version/uuid "
                + "already loaded; check the system/kernel logs for errors or try kextutil(8).\n(kernel) " + refusal + "\n"
                + SameIdOtherKext.class.getName() + " (version 1.0) has bundle identifier com.example.same, already taken "
                + "by the loaded kext " + SameIdKext.class.getName() + " (version 1.0), load tag " + first.loadTag()
                + ". A kernel holds one "
                + "kext per bundle identifier, as XNU does: unload the loaded one first, or give this kext its own "
                + "@KextBundle(id).");
        assertThat(kernel.kexts().loaded()).containsExactly(first);
    }

    @Test
    void anotherVersionOfALoadedKextIsRefusedWithBothVersions() {
        kernel.kexts().load(SameIdKext.class);
        KextLoadException e = catchThrowableOfType(KextLoadException.class,
                () -> kernel.kexts().load(SameIdNewerKext.class));
        assertThat(e.log()).containsExactly("Refusing new kext com.example.same, v2.0: already have loaded v1.0.");
        assertThat(e.getMessage()).contains(SameIdNewerKext.class.getName() + " (version 2.0) has bundle identifier "
                + "com.example.same, already taken by the loaded kext " + SameIdKext.class.getName() + " (version 1.0)");
    }

    @Test
    void afterAnUnloadTheBundleIdIsFreeAgain() {
        kernel.kexts().unload(kernel.kexts().load(SameIdKext.class));
        assertThat(kernel.kexts().load(SameIdNewerKext.class).version()).isEqualTo("2.0");
        assertThat(kernel.log().textSince(0)).noneMatch(l -> l.startsWith("Refusing"));
    }

    @KextBundle(id = "com.example.same", version = "1.0")
    public static class SameIdKext implements Kext {
        @Override
        public int start(KmodInfo ki, long data) {
            return 0;
        }

        @Override
        public int stop(KmodInfo ki, long data) {
            return 0;
        }
    }

    @KextBundle(id = "com.example.same", version = "1.0")
    public static class SameIdOtherKext implements Kext {
        @Override
        public int start(KmodInfo ki, long data) {
            return 0;
        }

        @Override
        public int stop(KmodInfo ki, long data) {
            return 0;
        }
    }

    @KextBundle(id = "com.example.same", version = "2.0")
    public static class SameIdNewerKext implements Kext {
        @Override
        public int start(KmodInfo ki, long data) {
            return 0;
        }

        @Override
        public int stop(KmodInfo ki, long data) {
            return 0;
        }
    }
}
