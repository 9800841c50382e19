package dev.kextharness.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kextharness.cli.testkexts.CleanKext;
import dev.kextharness.cli.testkexts.FailingStartKext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

class LoadCommandTest {

    @Test
    void leakingSamplePanicsTheKernelAndExitsWithThePanicStatus() {
        Cli.Result r = Cli.run("load", "memleak");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.PANIC);
        assertThat(r.out())
                .contains("kext-memleak: byte allocated 0x")
                .contains("verdict: panic")
                .contains("panic(cpu 0 caller 0x")
                .contains("KEXT LEAK: cn.junkman.kext-memleak: 1 allocation (1 byte) outstanding at unload")
                .contains("at MemleakKext.start(MemleakKext.java:")
                .contains("rule: Every _MALLOC needs its _FREE");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void aCleanVerdictPrintsNoRule() {
        Cli.Result r = Cli.run("load", "wrongsize-samebucket", "--no-findings");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).contains("verdict: clean").doesNotContain("rule:");
    }

    @Test
    void leakUnderTheFailPolicyExitsWithTheLeakStatus() {
        Cli.Result r = Cli.run("load", "memleak", "--leak-policy", "fail");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.LEAK);
        assertThat(r.out()).contains("verdict: leak").contains("fix: free it with _FREE before stop returns")
                .doesNotContain("panic(cpu");
    }

    @Test
    void leakUnderXnuPolicyIsStillReportedAsALeak() {
        Cli.Result r = Cli.run("load", "memleak", "--leak-policy", "XNU");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.LEAK);
        assertThat(r.out()).contains("KEXT LEAK: cn.junkman.kext-memleak");
    }

    @Test
    void balancedTwinExitsClean() {
        Cli.Result r = Cli.run("load", "memleak", "--twin");

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).contains("kext-memleak: byte freed 0x").contains("verdict: clean")
                .contains("cn.junkman.kext-memleak 1.1 unloaded with nothing outstanding.");
    }

    @Test
    void userClassFromTheClassPathExitsClean() {
        Cli.Result r = Cli.run("load", CleanKext.class.getName());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).contains("Kext com.example.clean loaded.");
    }

    @Test
    void userClassFromAClasspathDirectoryExitsClean() throws Exception {
        Path classes = Path.of(CleanKext.class.getProtectionDomain().getCodeSource().getLocation().toURI());

        Cli.Result r = Cli.run("load", CleanKext.class.getName(), "--classpath", classes.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
    }

    @Test
    void kextInAJarIsFoundAndLoaded(@TempDir Path dir) throws IOException {
        Path jar = jarOf(dir.resolve("clean.jar"), CleanKext.class);

        Cli.Result r = Cli.run("load", jar.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.CLEAN);
        assertThat(r.out()).contains("Kext com.example.clean loaded.");
    }

    @Test
    void jarWithTwoKextsNeedsClass(@TempDir Path dir) throws IOException {
        Path jar = jarOf(dir.resolve("two.jar"), CleanKext.class, FailingStartKext.class);

        assertUsageError(Cli.run("load", jar.toString()), "has 2 kext classes");
        assertThat(Cli.run("load", jar.toString(), "--class", FailingStartKext.class.getName()).exitCode())
                .isEqualTo(ExitCodes.LOAD_FAILED);
    }

    @Test
    void failedStartExitsWithTheLoadFailureStatus() {
        Cli.Result r = Cli.run("load", FailingStartKext.class.getName());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.LOAD_FAILED);
        assertThat(r.out()).contains("verdict: load-failed").contains("Its start routine returned 0x5 (KERN_FAILURE)")
                .containsOnlyOnce("Kext com.example.failing-start did not start");
    }

    @Test
    void jsonCarriesVerdictExitCodeLogAndReport() throws Exception {
        Cli.Result r = Cli.run("load", "memleak", "--leak-policy", "fail", "--json");

        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("kext").asText()).isEqualTo("memleak");
        assertThat(json.get("bundleId").asText()).isEqualTo("cn.junkman.kext-memleak");
        assertThat(json.get("verdict").asText()).isEqualTo("leak");
        assertThat(json.get("exitCode").asInt()).isEqualTo(ExitCodes.LEAK).isEqualTo(r.exitCode());
        assertThat(json.get("log").toString()).contains("kext-memleak: byte allocated");
        assertThat(json.get("report").get("allocations").asLong()).isEqualTo(1);
        assertThat(json.get("report").get("sites").get(0).get("zone").asText()).isEqualTo("kalloc.16");
        assertThat(json.get("zoneChanges").get(0).get("zone").asText()).isEqualTo("kalloc.16");
        assertThat(json.get("panic").isNull()).isTrue();
        assertThat(json.get("rule").asText()).startsWith("Every _MALLOC");
    }

    @Test
    void panicJsonCarriesThePanicLog() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("load", "memleak", "--json").out());

        assertThat(json.get("verdict").asText()).isEqualTo("panic");
        assertThat(json.get("panic").get("panicLog").asText()).contains("Kernel Extensions in backtrace:");
    }

    @Test
    void leakPanicJsonCarriesTheLeakReportWithItsCallSites() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("load", "memleak", "--json").out());

        assertThat(json.get("verdict").asText()).isEqualTo("panic");
        JsonNode report = json.get("report");
        assertThat(report.get("kext").asText()).isEqualTo("cn.junkman.kext-memleak");
        assertThat(report.get("allocations").asLong()).isEqualTo(1);
        JsonNode site = report.get("sites").get(0);
        assertThat(site.get("zone").asText()).isEqualTo("kalloc.16");
        assertThat(site.get("signature").asText()).isNotBlank();
        assertThat(json.get("panic").get("panicString").asText()).startsWith("KEXT LEAK: cn.junkman.kext-memleak");
    }

    @Test
    void anXnuPanicBeforeTheUnloadHasNoReport() throws Exception {
        JsonNode json = new ObjectMapper().readTree(Cli.run("load", "doublefree", "--json").out());

        assertThat(json.get("verdict").asText()).isEqualTo("panic");
        assertThat(json.get("report").isNull()).isTrue();
    }

    @Test
    void unknownKextIsAUsageErrorNamingTheSamples() {
        assertUsageError(Cli.run("load", "nosuch"), "unknown kext 'nosuch': not a sample (memleak");
    }

    @Test
    void missingJarIsAUsageError() {
        assertUsageError(Cli.run("load", "/nonexistent/kext.jar"), "kext jar /nonexistent/kext.jar: no such file");
    }

    @Test
    void unknownClassIsAUsageError() {
        assertUsageError(Cli.run("load", "com.example.Missing"), "unknown kext class 'com.example.Missing'");
    }

    @Test
    void classThatIsNotAKextIsAUsageError() {
        assertUsageError(Cli.run("load", "java.lang.String"), "is not a kext");
    }

    @Test
    void twinOfANonSampleIsAUsageError() {
        assertUsageError(Cli.run("load", CleanKext.class.getName(), "--twin"), "--twin needs a sample name");
    }

    @Test
    void aTruncatedClassInAJarIsALoadFailureNamingTheFile(@TempDir Path dir) throws IOException {
        Path jar = jarOf(dir.resolve("clean.jar"), CleanKext.class);
        Path cut = dir.resolve("cut.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(cut));
             java.util.jar.JarFile in = new java.util.jar.JarFile(jar.toFile())) {
            String entry = CleanKext.class.getName().replace('.', '/') + ".class";
            out.putNextEntry(new JarEntry(entry));
            out.write(java.util.Arrays.copyOf(in.getInputStream(in.getEntry(entry)).readAllBytes(), 200));
            out.closeEntry();
        }

        Cli.Result r = Cli.run("load", cut.toString(), "--class", CleanKext.class.getName());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.LOAD_FAILED);
        assertThat(r.out()).contains("verdict: load-failed")
                .contains("its class file dev/kextharness/cli/testkexts/CleanKext.class (class "
                        + CleanKext.class.getName() + ", from jar " + cut + ") is truncated or corrupt: reading its 200 "
                        + "bytes failed");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void aCorruptKextClassInADirectoryIsALoadFailureNotAnUnknownClass(@TempDir Path dir) throws IOException {
        // A class the harness's own class path does not have, its file cut short.
        Path file = Files.createDirectories(dir.resolve("com/example/cut")).resolve("CutKext.class");
        try (InputStream in = CleanKext.class.getResourceAsStream("CleanKext.class")) {
            Files.write(file, java.util.Arrays.copyOf(in.readAllBytes(), 100));
        }

        Cli.Result r = Cli.run("load", "com.example.cut.CutKext", "--classpath", dir.toString());

        assertThat(r.exitCode()).isEqualTo(ExitCodes.LOAD_FAILED);
        assertThat(r.out()).contains("com.example.cut.CutKext failed to load - (libkern/kext) validation failure")
                .contains("its class file com/example/cut/CutKext.class (class com.example.cut.CutKext, from directory "
                        + dir.toAbsolutePath().normalize() + ") is truncated or corrupt");
    }

    @Test
    void ramBeyondTheLargestMacIsAUsageError() {
        assertUsageError(Cli.run("load", "memleak", "--ram", "4T"),
                "physical memory of 4 TiB is more than a Mac can have: give at most 1.5 TiB");
        assertThat(Cli.run("load", "memleak", "--twin", "--ram", "1536G").exitCode()).isEqualTo(ExitCodes.CLEAN);
    }

    @Test
    void malformedOptionsAreUsageErrors() {
        assertUsageError(Cli.run("load", "memleak", "--ram", "lots"), "'lots' is not a size");
        assertUsageError(Cli.run("load", "memleak", "--ram", "1M"), "too small");
        assertUsageError(Cli.run("load", "memleak", "--leak-policy", "ignore"), "give panic, fail or xnu");
        assertUsageError(Cli.run("load"), "Missing required parameter");
        assertUsageError(Cli.run("load", "memleak", "--bogus"), "Unknown option: '--bogus'");
    }

    /** One line naming the problem, one pointing to --help, status 2, and no stack trace. */
    static void assertUsageError(Cli.Result r, String message) {
        assertThat(r.exitCode()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().lines()).hasSize(2);
        assertThat(r.err().lines().findFirst().orElseThrow()).startsWith("kext-harness").contains(message);
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    private static Path jarOf(Path jar, Class<?>... classes) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            for (Class<?> type : classes) {
                String entry = type.getName().replace('.', '/') + ".class";
                out.putNextEntry(new JarEntry(entry));
                try (InputStream in = type.getClassLoader().getResourceAsStream(entry)) {
                    in.transferTo(out);
                }
                out.closeEntry();
            }
        }
        return jar;
    }
}
