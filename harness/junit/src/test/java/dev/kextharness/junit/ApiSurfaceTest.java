package dev.kextharness.junit;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ledger.LeakReport;
import org.apiguardian.api.API;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The test-facing API says its stability with @API, keeps the kernel's internals out, and names its keys. */
class ApiSurfaceTest {

    /** KextRules is the kext-allowlist work's; its mark comes with it. */
    private static final List<String> NOT_YET_MARKED = List.of("KextRules");

    @Test
    void everyPublicTypeOfTheExtensionSaysItsStability() throws IOException, URISyntaxException, ClassNotFoundException {
        Path dir = Path.of(KextTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/kextharness/junit");
        List<String> unmarked = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class") && !f.toString().contains("$")).toList()) {
                String simple = file.getFileName().toString().replace(".class", "");
                Class<?> type = Class.forName("dev.kextharness.junit." + simple);
                if (Modifier.isPublic(type.getModifiers()) && !type.isAnnotationPresent(API.class)
                        && !NOT_YET_MARKED.contains(simple)) {
                    unmarked.add(simple);
                }
            }
        }
        assertThat(unmarked).as("public types without @API").isEmpty();
    }

    @Test
    void theKernelsSubsystemAccessorsAreInternal() throws NoSuchMethodException {
        assertThat(Kernel.class.getAnnotation(API.class).status()).isEqualTo(API.Status.STABLE);
        for (String internal : List.of("zalloc", "memory", "kalloc", "ledger", "kexts")) {
            assertThat(Kernel.class.getMethod(internal).getAnnotation(API.class).status()).as(internal)
                    .isEqualTo(API.Status.INTERNAL);
        }
        assertThat(Kernel.class.getMethod("snapshot").getAnnotation(API.class)).as("inherits the class's STABLE").isNull();
        assertThat(LeakReport.class.getAnnotation(API.class).status()).isEqualTo(API.Status.STABLE);
        assertThat(LauncherConfigurationKeys.class.getAnnotation(API.class).status()).isEqualTo(API.Status.INTERNAL);
    }

    @Test
    void theConfigurationKeysArePublicConstantsTheHarnessReads() throws IllegalAccessException {
        List<String> keys = new ArrayList<>();
        for (Field f : ConfigurationKeys.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && !f.getName().equals("PREFIX")) {
                keys.add((String) f.get(null));
            }
        }
        assertThat(keys).containsExactlyInAnyOrder(HarnessSettings.LEAK_POLICY, HarnessSettings.PHYSICAL_MEMORY,
                HarnessSettings.FINDINGS, HarnessSettings.SUPPRESSIONS);
        assertThat(keys).allMatch(k -> k.startsWith(ConfigurationKeys.PREFIX));
    }
}
