package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.fixtures.OtherPackageHelperKext;
import dev.kextharness.kernel.kext.fixtures.helpers.Buffers;
import dev.kextharness.kernel.kext.fixtures.rogue.RogueKexts;
import dev.kextharness.kernel.kext.fixtures.rogue.SharedTable;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kpi.Kext;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;

/**
 * The allowlist over everything a kext can run: issue 11's reproductions each fail to link with
 * the symbol and its site, whatever package, jar or shared interface the code sits in.
 */
class KextAllowlistTest {
    private static final Path FIXTURES = Path.of("src/test/java/dev/kextharness/kernel/kext/fixtures");
    private static final String ROGUE = "dev.kextharness.kernel.kext.fixtures.rogue.";

    private final Kernel kernel = Kernel.boot();

    private static int lineOf(String file, String marker) throws IOException {
        List<String> lines = Files.readAllLines(FIXTURES.resolve(file));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(marker)) {
                return i + 1;
            }
        }
        throw new AssertionError("no " + marker + " in " + file);
    }

    /** Loads the kext, which must fail to link; its unresolved lines as "symbol @ site [rule]". */
    private List<String> refused(Class<? extends Kext> kext) {
        KextLinkException e = catchThrowableOfType(KextLinkException.class, () -> kernel.kexts().load(kext));
        assertThat(e).as(kext.getSimpleName() + " must fail to link").isNotNull();
        assertThat(kernel.kexts().all()).as("nothing of it stays").isEmpty();
        List<String> out = new ArrayList<>();
        e.unresolved().forEach(u -> out.add(u.symbol() + " @ " + u.referencedFrom() + " [" + u.rule() + "]"));
        return out;
    }

    private static String at(String file, String method, String marker) throws IOException {
        return method + "(" + file.substring(file.lastIndexOf('/') + 1) + ":" + lineOf("rogue/" + file, marker) + ")";
    }

    @Test
    void javaBeansStatementIsReflection() throws IOException {
        String site = ROGUE + "RogueKexts$BeansExit." + at("RogueKexts.java", "start", "LINE: beans");
        assertThat(refused(RogueKexts.BeansExit.class)).containsExactly(
                "java.beans.Statement.<init>(Ljava/lang/Object;Ljava/lang/String;[Ljava/lang/Object;)V @ " + site
                        + " [reflection]",
                "java.beans.Statement.execute()V @ " + site + " [reflection]");
    }

    @Test
    void systemExitInAHelperOfAnotherPackageIsRefusedWhereItIs() throws IOException {
        assertThat(refused(RogueKexts.HelperExit.class)).containsExactly("java.lang.System.exit(I)V @ " + ROGUE
                + "helpers.Exiter." + at("helpers/Exiter.java", "exit", "LINE: helper exit") + " [JVM-wide]");
    }

    @Test
    void systemExitInADefaultMethodOfASharedInterfaceIsRefused() throws IOException {
        assertThat(refused(RogueKexts.DefaultMethodExit.class)).containsExactly("java.lang.System.exit(I)V @ " + ROGUE
                + "Quitter." + at("Quitter.java", "quit", "LINE: default method") + " [JVM-wide]");
    }

    @Test
    void aLoopInADefaultMethodOfASharedInterfaceIsRefused() throws IOException {
        // Shared code is not rewritten, so it has no preemption point where the watchdog could stop it.
        assertThat(refused(RogueKexts.SharedLoop.class)).singleElement().asString()
                .startsWith("(a loop in shared code) @ " + ROGUE + "Looper.spin(Looper.java:")
                .endsWith(" [shared code]");
    }

    @Test
    void byteBuddysJavaDispatcherIsAHarnessLibrary() throws IOException {
        String site = ROGUE + "RogueKexts$DispatcherExit." + at("RogueKexts.java", "start", "LINE: dispatcher");
        assertThat(refused(RogueKexts.DispatcherExit.class)).contains(
                "net.bytebuddy.utility.dispatcher.JavaDispatcher.of(Ljava/lang/Class;)Ljava/security/PrivilegedAction; @ "
                        + site + " [harness library]",
                "java.security.PrivilegedAction.run()Ljava/lang/Object; @ " + site + " [reflection]");
    }

    @Test
    void parallelStreamsInAnyFormAreThreads() throws IOException {
        String start = ROGUE + "RogueKexts$ParallelStreams.";
        assertThat(refused(RogueKexts.ParallelStreams.class)).containsExactly(
                "java.util.stream.StreamSupport.intStream(Ljava/util/Spliterator$OfInt;Z)Ljava/util/stream/IntStream; @ "
                        + start + at("RogueKexts.java", "start", "LINE: stream support") + " [thread]",
                "java.util.stream.IntStream.parallel()Ljava/util/stream/IntStream; @ "
                        + start + at("RogueKexts.java", "start", "LINE: parallel") + " [thread]",
                "java.util.List.parallelStream()Ljava/util/stream/Stream; @ "
                        + start + at("RogueKexts.java", "start", "LINE: parallel stream") + " [thread]");
    }

    @Test
    void concurrentHashMapsParallelBulkOperationsAreThreadsEvenWhenInherited() throws IOException {
        assertThat(refused(RogueKexts.BulkParallel.class)).containsExactly(
                "java.util.concurrent.ConcurrentHashMap.forEach(JLjava/util/function/BiConsumer;)V @ " + ROGUE
                        + "RogueKexts$BulkParallel." + at("RogueKexts.java", "start", "LINE: chm forEach") + " [thread]");
        assertThat(refused(RogueKexts.InheritedParallel.class)).containsExactly(
                "java.lang.Object.wait(J)V @ " + ROGUE + "RogueKexts$InheritedParallel."
                        + at("RogueKexts.java", "start", "LINE: wait") + " [thread]",
                ROGUE + "RogueKexts$Table.forEach(JLjava/util/function/BiConsumer;)V @ " + ROGUE + "RogueKexts$Table."
                        + at("RogueKexts.java", "visitAll", "LINE: inherited forEach") + " [thread]");
    }

    @Test
    void aHelperCannotReachTheKernelThroughTheKextsClassLoader() throws IOException {
        String reach = ROGUE + "helpers.LedgerReach.";
        assertThat(refused(RogueKexts.LedgerThief.class)).contains(
                "java.lang.Class.getClassLoader()Ljava/lang/ClassLoader; @ " + reach
                        + at("helpers/LedgerReach.java", "kernelOf", "LINE: class loader") + " [reflection]",
                "java.lang.Class.getDeclaredMethod(Ljava/lang/String;[Ljava/lang/Class;)Ljava/lang/reflect/Method; @ "
                        + reach + at("helpers/LedgerReach.java", "kernelOf", "LINE: declared method") + " [reflection]");
    }

    @Test
    void aStaticArrayInASharedInterfaceIsRefusedAsSharedState() {
        assertThat(refused(RogueKexts.TableKext.class)).containsExactly(SharedTable.class.getName()
                + ".TABLE:[J @ " + SharedTable.class.getName() + ".TABLE (static field of a shared type) [shared state]");
    }

    @Test
    void theConsoleAndFinalizersAreRefused() throws IOException {
        String start = ROGUE + "RogueKexts$Console.";
        assertThat(refused(RogueKexts.Console.class)).containsExactly(
                "java.lang.System.out:Ljava/io/PrintStream; @ " + start + at("RogueKexts.java", "start", "LINE: console")
                        + " [console]",
                "java.io.PrintStream.println(Ljava/lang/String;)V @ " + start
                        + at("RogueKexts.java", "start", "LINE: console") + " [I/O]",
                "java.lang.IllegalStateException.printStackTrace()V @ " + start
                        + at("RogueKexts.java", "start", "LINE: stack trace") + " [console]");
        assertThat(refused(RogueKexts.Finalizer.class)).containsExactly(ROGUE + "RogueKexts$Finalizer.finalize()V @ "
                + ROGUE + "RogueKexts$Finalizer.finalize (method declaration) [thread]");
    }

    @Test
    void theMessageExplainsEachRuleOnce() {
        KextLinkException e = catchThrowableOfType(KextLinkException.class,
                () -> kernel.kexts().load(RogueKexts.Console.class));
        assertThat(e.getMessage()).startsWith("kxld[rogue.console]: The following symbols are unresolved for this kext:")
                .contains("[console] System.out, System.err, System.in and printStackTrace write to the JVM's console")
                .contains("A kext prints with printf").contains("[I/O] files, sockets");
    }

    @Test
    void aHelperInAnotherPackageIsKextCodeWithLinkedCallsAndFreshStatics() throws IOException {
        LoadedKext kext = kernel.kexts().load(OtherPackageHelperKext.class);
        assertThat(kext.image().classes).containsKey(Buffers.class.getName());
        CallSite malloc = sitesOf(kext).stream().filter(s -> s.function().equals("_MALLOC")).findFirst().orElseThrow();
        assertThat(malloc.location()).isEqualTo("Buffers.allocate(Buffers.java:"
                + lineOf("helpers/Buffers.java", "LINE: helper malloc") + ")");
        assertThat(kext.service(IntSupplier.class).getAsInt()).isEqualTo(1);
        kernel.kexts().unload(kext);
        assertThat(kernel.ledger().liveCountOfKext(kext.loadTag())).isZero();

        LoadedKext again = Kernel.boot().kexts().load(OtherPackageHelperKext.class);
        assertThat(again.service(IntSupplier.class).getAsInt()).as("the helper's statics are fresh per load").isEqualTo(1);
        assertThat(Buffers.allocations()).as("the test's own copy of the helper is untouched").isZero();
    }

    private List<CallSite> sitesOf(LoadedKext kext) {
        List<CallSite> out = new ArrayList<>();
        for (int i = 0; i < kernel.ledger().siteCount(); i++) {
            if (kernel.ledger().site(i).loadTag() == kext.loadTag()) {
                out.add(kernel.ledger().site(i));
            }
        }
        return out;
    }
}
