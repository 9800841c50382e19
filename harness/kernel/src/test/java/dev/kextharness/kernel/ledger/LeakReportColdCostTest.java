package dev.kextharness.kernel.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The first verdict of a JVM builds no JSON writer: Jackson starts only when someone asks for
 * JSON. Run in a class loader of its own, so what this JVM loaded before does not count.
 */
class LeakReportColdCostTest {
    private static final String OBJECT_MAPPER = "com.fasterxml.jackson.databind.ObjectMapper";

    /** A class loader over the test class path that can say what it has loaded itself. */
    private static final class Isolated extends URLClassLoader {
        Isolated() throws MalformedURLException {
            super("cold-cost", classPath(), ClassLoader.getPlatformClassLoader());
        }

        boolean hasLoaded(String name) {
            return findLoadedClass(name) != null;
        }

        private static URL[] classPath() throws MalformedURLException {
            List<URL> urls = new ArrayList<>();
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                urls.add(Path.of(entry).toUri().toURL());
            }
            return urls.toArray(URL[]::new);
        }
    }

    @Test
    void theFirstUnloadJudgesWithoutJacksonAndJsonStillWorks() throws Exception {
        try (Isolated loader = new Isolated()) {
            Class<?> kernelClass = Class.forName("dev.kextharness.kernel.Kernel", true, loader);
            Object kernel = kernelClass.getMethod("boot").invoke(null);
            Class<?> kextClass = Class.forName("dev.kextharness.kernel.kext.fixtures.CounterKext", true, loader);
            Object kext = kernelClass.getMethod("kextload", Class.class).invoke(kernel, kextClass);
            Class<?> loadedKext = kext.getClass();
            kernelClass.getMethod("kextunload", loadedKext).invoke(kernel, kext);
            Object report = kernelClass.getMethod("leakReport", loadedKext).invoke(kernel, kext);

            assertThat(report.getClass().getMethod("isClean").invoke(report)).isEqualTo(true);
            assertThat(report.toString()).isNotEmpty();
            assertThat(loader.hasLoaded(OBJECT_MAPPER)).as("Jackson loaded by a verdict nobody asked as JSON").isFalse();

            String json = (String) report.getClass().getMethod("toJson").invoke(report);
            assertThat(json).contains("\"allocations\" : 0");
            assertThat(loader.hasLoaded(OBJECT_MAPPER)).isTrue();
        }
    }
}
