package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.KextLinkException.Unresolved;
import dev.kextharness.kernel.kext.fixtures.UnexportedKext;
import dev.kextharness.kernel.kext.fixtures.UnknownLibraryKext;
import dev.kextharness.kernel.kext.fixtures.UnsupportedKallocKext;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** A kext links only what the KPI libraries it names export, and kxld's lines say what does not. */
class KpiLinkTest {
    private static final Path FIXTURES = Path.of("src/test/java/dev/kextharness/kernel/kext/fixtures");

    private final Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.FAIL));

    private static String at(String marker) throws IOException {
        List<String> lines = Files.readAllLines(FIXTURES.resolve("UnexportedKext.java"));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith("// LINE: " + marker)) {
                return "dev.kextharness.kernel.kext.fixtures.UnexportedKext.start(UnexportedKext.java:" + (i + 1) + ")";
            }
        }
        throw new AssertionError(marker);
    }

    @Test
    void unexportedFunctionsAndOnesOutsideTheKextsLibrariesAreUnresolvedAsKxldSaysWithTheirSites() throws IOException {
        String id = "dev.kextharness.test.unexported";
        int from = kernel.log().size();

        KextLinkException e = catchThrowableOfType(KextLinkException.class,
                () -> kernel.kextload(UnexportedKext.class));

        assertThat(e.unresolved()).containsExactly(
                new Unresolved("_kalloc_noblock", at("kalloc_noblock"), "not exported"),
                new Unresolved("_kalloc", at("kalloc"), "needs com.apple.kpi.unsupported"),
                new Unresolved("_mach_port_allocate", at("mach_port_allocate"), "not exported"),
                new Unresolved("_kfree", at("kfree"), "needs com.apple.kpi.unsupported"));
        // kxld's own lines (libkern/kxld/kxld_kext.c, validate_symbols), the symbols as the kernel's kxld prints them.
        assertThat(kernel.log().textSince(from)).containsSubsequence(
                "kxld[" + id + "]: The following symbols are unresolved for this kext:",
                "kxld[" + id + "]: \t_kalloc_noblock",
                "kxld[" + id + "]: \t_kalloc",
                "kxld[" + id + "]: \t_mach_port_allocate",
                "kxld[" + id + "]: \t_kfree",
                "Can't load kext " + id + " - link failed.");
        assertThat(e.getMessage())
                .startsWith("kxld[" + id + "]: The following symbols are unresolved for this kext:\n")
                .contains("_kalloc_noblock", "referenced from " + at("kalloc_noblock"))
                .contains("[not exported] xnu-6153 exports this function to no kext")
                .contains("[needs com.apple.kpi.unsupported] exported by com.apple.kpi.unsupported "
                        + "(Unsupported.exports in xnu-6153), which the kext does not link against");
        assertThat(kernel.loadedKexts()).isEmpty();
    }

    @Test
    void aKextThatNamesUnsupportedLinksKallocAndKextstatShowsItsLibraries() {
        LoadedKext kext = kernel.kextload(UnsupportedKallocKext.class);

        assertThat(kext.libraries()).containsExactlyInAnyOrder(dev.kextharness.kpi.KpiLibrary.LIBKERN,
                dev.kextharness.kpi.KpiLibrary.UNSUPPORTED);
        // com.apple.kpi.libkern is load tag 5, com.apple.kpi.unsupported 8, as on Catalina.
        assertThat(kernel.kextstat()).contains(" " + kext.bundleId() + " (1.0) " + kext.uuid() + " <8 5>\n")
                .contains("    8    1 0                  0          0          com.apple.kpi.unsupported (19.6.0) ");
        kernel.kextunload(kext);
        assertThat(kernel.leakReport(kext).isClean()).isTrue();
    }

    @Test
    void aLibraryTheKernelDoesNotHaveIsALibraryKextNotFound() {
        String id = "dev.kextharness.test.unknown-library";
        int from = kernel.log().size();

        KextLoadException e = catchThrowableOfType(KextLoadException.class,
                () -> kernel.kextload(UnknownLibraryKext.class));

        assertThat(e.result()).isEqualTo(KextReturn.DEPENDENCIES);
        assertThat(kernel.log().textSince(from))
                .contains("Kext " + id + " - library kext com.apple.kpi.bsdkernel not found.");
        assertThat(e.getMessage()).contains("com.apple.kpi.bsdkernel");
    }
}
