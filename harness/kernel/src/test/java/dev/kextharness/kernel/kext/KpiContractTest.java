package dev.kextharness.kernel.kext;

import dev.kextharness.kpi.Kalloc;
import dev.kextharness.kpi.Kpi;
import dev.kextharness.kpi.KpiLibrary;
import dev.kextharness.kpi.Malloc;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The KPI contract against the facade, the kernel's implementations and Catalina's export lists. */
class KpiContractTest {
    private final KpiContract contract = KpiContract.catalina();

    @Test
    void everyPublicStaticMethodOfAHeaderIsDeclaredOnceAndNoOtherFacadeClassDeclaresAny() throws Exception {
        Set<Class<?>> headers = KpiContract.headers().keySet();
        List<String> undeclared = new ArrayList<>();
        List<String> strays = new ArrayList<>();
        for (Class<?> type : facadeClasses()) {
            for (Method m : type.getDeclaredMethods()) {
                boolean kpi = Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers());
                if (headers.contains(type) && kpi && !m.isAnnotationPresent(Kpi.class)) {
                    undeclared.add(type.getSimpleName() + "." + m.getName());
                }
                if (!headers.contains(type) && m.isAnnotationPresent(Kpi.class)) {
                    strays.add(type.getSimpleName() + "." + m.getName());
                }
            }
        }
        assertThat(undeclared).as("facade functions without @Kpi").isEmpty();
        assertThat(strays).as("@Kpi on a facade class the contract does not list as a header").isEmpty();
        long declared = headers.stream().flatMap(h -> Stream.of(h.getDeclaredMethods()))
                .filter(m -> m.isAnnotationPresent(Kpi.class)).count();
        assertThat(contract.functions()).hasSize((int) declared);
    }

    @Test
    void facadeAndImplementationsMatchOneToOne() {
        // Every bound function a kext may link has its implementation, in its header's class ...
        for (KpiContract.Function f : contract.functions()) {
            boolean linkable = f.library() != KpiLibrary.NOT_EXPORTED;
            assertThat(contract.implemented(f)).as(f.signature() + " implemented").isEqualTo(f.bound() && linkable);
        }
        // ... and every public method of an implementation class is one of them, with the site appended.
        for (Map.Entry<Class<?>, Class<? extends KextKpi>> header : KpiContract.headers().entrySet()) {
            for (Method m : header.getValue().getDeclaredMethods()) {
                if (!Modifier.isPublic(m.getModifiers())) {
                    continue;
                }
                Class<?>[] params = m.getParameterTypes();
                assertThat(params).as(m + " ends with the call site").isNotEmpty().endsWith(int.class);
                String descriptor = java.lang.invoke.MethodType.methodType(m.getReturnType(),
                        java.util.Arrays.copyOf(params, params.length - 1)).toMethodDescriptorString();
                KpiContract.Function f = contract.function(header.getKey().getName().replace('.', '/'), m.getName(),
                        descriptor);
                assertThat(f).as(m + " implements a declared function of " + header.getKey().getSimpleName())
                        .isNotNull();
                assertThat(f.bound() && f.library() != KpiLibrary.NOT_EXPORTED).as(f.signature() + " is linked").isTrue();
            }
        }
    }

    @Test
    void everyDeclaredExportIsInTheCatalinaExportListItNames() {
        Map<KpiLibrary, Set<String>> lists = new HashMap<>();
        Set<String> everyList = new HashSet<>();
        for (KpiLibrary library : KpiLibrary.values()) {
            if (library.isLibrary()) {
                Set<String> symbols = new HashSet<>(exports(library.exportList() + ".exports"));
                symbols.addAll(exports(library.exportList() + ".x86_64.exports"));
                lists.put(library, symbols);
                everyList.addAll(symbols);
            }
        }
        for (KpiContract.Function f : contract.functions()) {
            switch (f.library()) {
                case NONE -> assertThat(f.symbol()).as(f.signature() + ": a macro has no symbol").isNull();
                case NOT_EXPORTED -> assertThat(everyList).as(f.signature() + " is in no export list")
                        .doesNotContain(f.symbol());
                default -> assertThat(lists.get(f.library()))
                        .as(f.signature() + ": " + f.symbol() + " in " + f.library().exportList() + ".exports")
                        .contains(f.symbol());
            }
        }
    }

    @Test
    void kallocAndKfreeAreUnsupportedAndKallocNoblockAndMachPortsAreNotExported() {
        assertThat(function(Kalloc.class, "kalloc").library()).isEqualTo(KpiLibrary.UNSUPPORTED);
        assertThat(function(Kalloc.class, "kfree").library()).isEqualTo(KpiLibrary.UNSUPPORTED);
        assertThat(function(Kalloc.class, "kalloc_noblock").library()).isEqualTo(KpiLibrary.NOT_EXPORTED);
        assertThat(contract.functions()).filteredOn(f -> f.name().startsWith("mach_port_"))
                .isNotEmpty().allSatisfy(f -> assertThat(f.library()).isEqualTo(KpiLibrary.NOT_EXPORTED));
    }

    @Test
    void mayCallAnswersForAKextsLibraries() {
        Set<KpiLibrary> publicFour = KpiContract.DEFAULT_LIBRARIES;
        Set<KpiLibrary> withUnsupported = EnumSet.copyOf(publicFour);
        withUnsupported.add(KpiLibrary.UNSUPPORTED);
        String kalloc = "dev/kextharness/kpi/Kalloc";
        assertThat(contract.mayCall(publicFour, kalloc, "kalloc", "(J)J")).isFalse();
        assertThat(contract.mayCall(withUnsupported, kalloc, "kalloc", "(J)J")).isTrue();
        assertThat(contract.mayCall(withUnsupported, kalloc, "kalloc_noblock", "(J)J")).isFalse();
        assertThat(contract.mayCall(publicFour, "dev/kextharness/kpi/Malloc", "_MALLOC", "(JII)J")).isTrue();
        assertThat(contract.mayCall(EnumSet.noneOf(KpiLibrary.class), "dev/kextharness/kpi/Mem", "load8", "(J)I"))
                .as("a pointer dereference needs no library").isTrue();
        assertThat(contract.mayCall(publicFour, "dev/kextharness/kpi/Malloc", "_REALLOC", "(JJII)J")).isFalse();
        assertThat(contract.refusal(publicFour, kalloc, "kalloc", "(J)J"))
                .startsWith("[needs com.apple.kpi.unsupported] exported by com.apple.kpi.unsupported");
        assertThat(contract.refusal(withUnsupported, kalloc, "kalloc_noblock", "(J)J")).startsWith("[not exported] ");
    }

    @Test
    void theDeclarationDecidesFamilyAndFaultInjection() {
        KpiContract.Function malloc = function(Malloc.class, "_MALLOC");
        assertThat(malloc.failable()).isTrue();
        assertThat(malloc.family()).hasToString("MALLOC");
        assertThat(function(Malloc.class, "_FREE").failable()).isFalse();
        assertThat(contract.functions()).filteredOn(KpiContract.Function::failable)
                .allSatisfy(f -> assertThat(f.facade().getReturnType()).as(f.signature() + " returns a pointer")
                        .isEqualTo(long.class));
    }

    private KpiContract.Function function(Class<?> facade, String name) {
        return contract.functions().stream()
                .filter(f -> f.facade().getDeclaringClass() == facade && f.name().equals(name))
                .findFirst().orElseThrow();
    }

    /** The symbols an export list defines (the exported name of an {@code _a:_b} line). */
    private static List<String> exports(String file) {
        try (InputStream in = KpiContractTest.class.getResourceAsStream("/xnu-6153-exports/" + file)) {
            if (in == null) {
                return List.of();
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#")).map(l -> l.split(":")[0]).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every class of the facade's package, read from where the facade was loaded (a directory or a jar). */
    private static List<Class<?>> facadeClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path location = Path.of(Malloc.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> names = new ArrayList<>();
        if (Files.isDirectory(location)) {
            names.addAll(classNames(location.resolve("dev/kextharness/kpi")));
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(location)) {
                names.addAll(classNames(jar.getPath("dev/kextharness/kpi")));
            }
        }
        List<Class<?>> out = new ArrayList<>();
        for (String name : names) {
            out.add(Class.forName("dev.kextharness.kpi." + name, false, Malloc.class.getClassLoader()));
        }
        return out;
    }

    private static List<String> classNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".class"))
                    .map(n -> n.substring(0, n.length() - ".class".length())).toList();
        }
    }
}
