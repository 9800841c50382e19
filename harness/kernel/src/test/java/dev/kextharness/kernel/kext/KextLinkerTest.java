package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.fixtures.BadKext;
import dev.kextharness.kernel.kext.fixtures.Counter;
import dev.kextharness.kernel.kext.fixtures.CounterKext;
import dev.kextharness.kernel.kext.fixtures.LibraryKext;
import dev.kextharness.kernel.kext.fixtures.RichKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kpi.Malloc;
import net.bytebuddy.jar.asm.ClassReader;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ClassWriter;
import net.bytebuddy.jar.asm.Handle;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

class KextLinkerTest {
    private static final Path FIXTURES = Path.of("src/test/java/dev/kextharness/kernel/kext/fixtures");

    private final Kernel kernel = Kernel.boot(KernelConfig.defaults().withLeakPolicy(LeakPolicy.XNU));

    /** The line of a fixture's source that carries a marker comment. */
    private static int lineOf(String file, String marker) throws IOException {
        List<String> lines = Files.readAllLines(FIXTURES.resolve(file));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(marker)) {
                return i + 1;
            }
        }
        throw new AssertionError("no " + marker + " in " + file);
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

    /** The INVOKESTATIC owners and INVOKEDYNAMIC bootstraps in a class file. */
    private static List<String> calls(byte[] bytes) {
        List<String> out = new ArrayList<>();
        new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String sig, String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String n, String d, boolean itf) {
                        if (opcode == Opcodes.INVOKESTATIC) {
                            out.add("invokestatic " + owner + "." + n);
                        }
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String n, String d, Handle bsm, Object... args) {
                        out.add("indy " + n + " via " + bsm.getOwner() + "." + bsm.getName());
                    }
                };
            }
        }, 0);
        return out;
    }

    private static byte[] classFile(Class<?> type) throws IOException {
        try (InputStream in = type.getClassLoader().getResourceAsStream(type.getName().replace('.', '/') + ".class")) {
            return in.readAllBytes();
        }
    }

    @Test
    void kpiCallsAreRewrittenToInvokedynamic() throws IOException {
        KextImage image = KextLinker.link(KextSource.of(CounterKext.class));
        byte[] linked = image.bytes(CounterKext.class.getName());

        assertThat(calls(classFile(CounterKext.class))).contains("invokestatic dev/kextharness/kpi/Malloc._MALLOC");
        assertThat(calls(linked))
                .contains("indy _MALLOC via dev/kextharness/kernel/kext/KextLinker.bootstrap",
                        "indy _FREE via dev/kextharness/kernel/kext/KextLinker.bootstrap",
                        "indy printf via dev/kextharness/kernel/kext/KextLinker.bootstrap")
                .noneMatch(c -> c.startsWith("invokestatic dev/kextharness/kpi/"));
        assertThat(image.shared).containsExactly(Counter.class.getName());
    }

    @Test
    void aLinkedCallReachesTheKernelWithItsCallSite() throws IOException {
        LoadedKext kext = kernel.kexts().load(CounterKext.class);
        Counter counter = kext.service(Counter.class);
        long p = counter.allocate(40);

        assertThat(p).isNotZero();
        assertThat(kernel.ledger().liveCountOfKext(kext.loadTag())).isEqualTo(1);
        CallSite malloc = sitesOf(kext).stream().filter(s -> s.function().equals("_MALLOC")).findFirst().orElseThrow();
        assertThat(malloc.bundleId()).isEqualTo("dev.kextharness.test.counter");
        assertThat(malloc.className()).isEqualTo(CounterKext.class.getName());
        assertThat(malloc.methodName()).isEqualTo("allocate");
        assertThat(malloc.fileName()).isEqualTo("CounterKext.java");
        assertThat(malloc.line()).isEqualTo(lineOf("CounterKext.java", "CALL SITE: allocate"));
        assertThat(sitesOf(kext)).extracting(CallSite::function).containsExactly("printf", "_MALLOC");

        counter.allocate(8);
        assertThat(sitesOf(kext)).as("a call site bootstraps once").hasSize(2);
        counter.freeAll();
        assertThat(kernel.ledger().liveCountOfKext(kext.loadTag())).isZero();
        kernel.kexts().unload(kext);
    }

    @Test
    void lambdasRecordsEnumSwitchesAndHelpersLinkToo() throws IOException {
        LoadedKext kext = kernel.kexts().load(RichKext.class);
        assertThat(kext.image().classes.keySet()).contains(RichKext.class.getName(),
                "dev.kextharness.kernel.kext.fixtures.RichHelper", RichKext.class.getName() + "$Mode",
                RichKext.class.getName() + "$Block");
        Counter counter = kext.service(Counter.class);
        counter.allocate(16);
        counter.allocate(4096);
        assertThat(counter.outstanding()).isEqualTo(2001);
        CallSite inLambda = sitesOf(kext).stream().filter(s -> s.function().equals("_MALLOC")).findFirst().orElseThrow();
        assertThat(inLambda.methodName()).startsWith("lambda$allocate$");
        assertThat(inLambda.line()).isEqualTo(lineOf("RichKext.java", "CALL SITE: lambda"));
        assertThat(kernel.log().text()).contains("rich: started as tag 9 of dev.kextharness.test.rich");
        kernel.kexts().unload(kext);
        assertThat(kernel.ledger().liveCountOfKext(kext.loadTag())).isZero();

        LoadedKext again = kernel.kexts().load(RichKext.class);
        assertThat(again.service(Counter.class).outstanding()).as("the helper's statics are fresh").isEqualTo(1);
        kernel.kexts().unload(again);
    }

    @Test
    void kernelsInParallelLoadTheSameKextIndependently() throws Exception {
        List<java.util.concurrent.Callable<Integer>> jobs = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            jobs.add(() -> {
                Kernel own = Kernel.boot();
                LoadedKext kext = own.kexts().load(RichKext.class);
                kext.service(Counter.class).allocate(32);
                int outstanding = kext.service(Counter.class).outstanding();
                own.kexts().unload(kext);
                return outstanding;
            });
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            for (java.util.concurrent.Future<Integer> f : pool.invokeAll(jobs)) {
                assertThat(f.get()).isEqualTo(1001);
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void theFacadeCalledOutsideAKextRefuses() {
        assertThatThrownBy(() -> Malloc._MALLOC(1, Malloc.M_TEMP, Malloc.M_WAITOK))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not part of a loaded kext");
        assertThatThrownBy(() -> new CounterKext().allocate(8))
                .as("the host's copy of a kext class is not linked")
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void linkedBytesAreCachedAcrossLoadsAndKernels() {
        KextImage first = KextLinker.link(KextSource.of(CounterKext.class));
        KextImage second = KextLinker.link(KextSource.of(CounterKext.class));
        assertThat(second).isSameAs(first);
        assertThat(second.bytes(CounterKext.class.getName())).isSameAs(first.bytes(CounterKext.class.getName()));

        LoadedKext a = kernel.kexts().load(CounterKext.class);
        LoadedKext b = Kernel.boot().kexts().load(CounterKext.class);
        assertThat(a.image()).isSameAs(first);
        assertThat(b.image()).isSameAs(first);
        assertThat(a.service(Counter.class).getClass()).isNotSameAs(b.service(Counter.class).getClass());
    }

    @Test
    void aKextThatUsesWhatTheKernelDoesNotExportFailsToLinkWithEverySymbol() throws IOException {
        int from = kernel.log().size();
        KextLinkException e = catchThrowableOfType(KextLinkException.class, () -> kernel.kexts().load(BadKext.class));

        String at = BadKext.class.getName() + ".start(BadKext.java:";
        assertThat(e.result()).isEqualTo(0xdc008016);
        assertThat(e.getMessage()).startsWith("kxld[dev.kextharness.test.bad]: The following symbols are unresolved for this kext:\n");
        assertThat(e.unresolved()).extracting(u -> u.symbol() + " @ " + u.referencedFrom() + " " + u.rule()).containsExactly(
                "dev.kextharness.kernel.vm.AddressSpace.roundPage(J)J @ " + at + lineOf("BadKext.java", "LINE: kernel") + ") kernel-private",
                "java.lang.Class.forName(Ljava/lang/String;)Ljava/lang/Class; @ " + at + lineOf("BadKext.java", "LINE: reflection") + ") reflection",
                "java.lang.Thread.<init>(Ljava/lang/Runnable;)V @ " + at + lineOf("BadKext.java", "LINE: thread") + ") thread",
                "java.lang.Thread.start()V @ " + at + lineOf("BadKext.java", "LINE: thread") + ") thread",
                "java.util.concurrent.Executors.newSingleThreadExecutor()Ljava/util/concurrent/ExecutorService; @ " + at
                        + lineOf("BadKext.java", "LINE: executor") + ") thread",
                "dev.kextharness.kpi.Libkern.strlen(J)J @ " + at + lineOf("BadKext.java", "LINE: method reference") + ") KPI method reference",
                "java.lang.System.exit(I)V @ " + at + lineOf("BadKext.java", "LINE: exit") + ") JVM-wide");
        assertThat(e.getMessage())
                .contains("  dev.kextharness.kernel.vm.AddressSpace.roundPage(J)J", "referenced from " + at)
                .contains("\nLink failed (error code 5).\nA kext may use only the KPI (dev.kextharness.kpi)")
                .contains("[kernel-private] dev.kextharness.* outside dev.kextharness.kpi", "[reflection]", "[thread]",
                        "[JVM-wide]", "[KPI method reference]");
        assertThat(kernel.log().textSince(from)).containsSubsequence(
                "kxld[dev.kextharness.test.bad]: The following symbols are unresolved for this kext:",
                "kxld[dev.kextharness.test.bad]: \tdev.kextharness.kernel.vm.AddressSpace.roundPage(J)J",
                "Can't load kext dev.kextharness.test.bad - link failed.",
                "Failed to load executable for kext dev.kextharness.test.bad.",
                "Kext dev.kextharness.test.bad failed to load (0xdc008016).",
                "Failed to load kext dev.kextharness.test.bad (error 0xdc008016).");

        assertThat(kernel.kexts().all()).as("nothing of it stays").isEmpty();
        assertThat(kernel.kexts().load(LibraryKext.class).loadTag()).as("no load tag consumed").isEqualTo(9);
    }

    @Test
    void aKextNestedInAnotherClassLeavesItsNestBehind() throws IOException {
        KextImage image = KextLinker.link(KextSource.of(KextManagerTest.NestedKext.class));
        String name = KextManagerTest.NestedKext.class.getName();
        assertThat(image.classes.keySet()).containsExactly(name);
        assertThat(nestHost(classFile(KextManagerTest.NestedKext.class))).isEqualTo("dev/kextharness/kernel/kext/KextManagerTest");
        assertThat(nestHost(image.bytes(name))).isNull();
    }

    private static String nestHost(byte[] bytes) {
        String[] host = new String[1];
        new ClassReader(bytes).accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public void visitNestHost(String nestHost) {
                host[0] = nestHost;
            }
        }, 0);
        return host[0];
    }

    @Test
    void aKextLoadsFromAJar(@TempDir Path dir) throws IOException {
        Path jar = dir.resolve("counter.jar");
        writeJar(jar, List.of(CounterKext.class, Counter.class));
        KextSource source = KextSource.fromJar(jar, CounterKext.class.getName(), getClass().getClassLoader());

        LoadedKext kext = kernel.kexts().load(source);
        Counter counter = kext.service(Counter.class);
        assertThat(counter.allocate(16)).isNotZero();
        assertThat(counter.getClass()).isNotSameAs(CounterKext.class);
        assertThat(KextLinker.link(KextSource.fromJar(jar, CounterKext.class.getName(), getClass().getClassLoader())))
                .isSameAs(kext.image());
        kernel.kexts().unload(kext);
    }

    @Test
    void anUnknownFacadeMemberIsAnUndefinedSymbol(@TempDir Path dir) throws IOException {
        Path jar = dir.resolve("realloc.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("gen/ReallocKext.class"));
            out.write(reallocKext());
            out.closeEntry();
        }
        KextLinkException e = catchThrowableOfType(KextLinkException.class,
                () -> kernel.kexts().load(KextSource.fromJar(jar, "gen.ReallocKext")));
        assertThat(e.unresolved()).extracting(u -> u.symbol() + " @ " + u.referencedFrom() + " " + u.rule())
                .containsExactly("dev.kextharness.kpi.Malloc._REALLOC(JJI)J @ gen.ReallocKext.start(ReallocKext.java:7) not in KPI",
                        "com.example.Absent.run()V @ gen.ReallocKext.start(ReallocKext.java:8) missing class");
        assertThat(e.getMessage()).contains("[not in KPI] the KPI facade (dev.kextharness.kpi) has no such member",
                "[missing class] the class is on neither");
    }

    @Test
    void aMissingJarClassIsNamed(@TempDir Path dir) throws IOException {
        Path jar = dir.resolve("empty.jar");
        writeJar(jar, List.of(Counter.class));
        assertThatThrownBy(() -> KextSource.fromJar(jar, "com.example.Missing"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has no class com.example.Missing")
                .hasMessageContaining(Counter.class.getName());
    }

    private static void writeJar(Path jar, List<Class<?>> classes) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            for (Class<?> c : classes) {
                out.putNextEntry(new JarEntry(c.getName().replace('.', '/') + ".class"));
                out.write(classFile(c));
                out.closeEntry();
            }
        }
    }

    /** A kext calling Malloc._REALLOC, which XNU does not export (so the facade has no such method). */
    private static byte[] reallocKext() {
        ClassWriter cw = new ClassWriter(ClassWriter.COMPUTE_FRAMES | ClassWriter.COMPUTE_MAXS);
        cw.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "gen/ReallocKext", null, "java/lang/Object",
                new String[]{"dev/kextharness/kpi/Kext"});
        cw.visitSource("ReallocKext.java", null);
        var bundle = cw.visitAnnotation("Ldev/kextharness/kpi/KextBundle;", true);
        bundle.visit("id", "gen.realloc");
        bundle.visitEnd();
        MethodVisitor init = cw.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        for (String name : List.of("start", "stop")) {
            MethodVisitor m = cw.visitMethod(Opcodes.ACC_PUBLIC, name, "(Ldev/kextharness/kpi/KmodInfo;J)I", null, null);
            m.visitCode();
            if (name.equals("start")) {
                net.bytebuddy.jar.asm.Label line = new net.bytebuddy.jar.asm.Label();
                m.visitLabel(line);
                m.visitLineNumber(7, line);
                m.visitLdcInsn(0L);
                m.visitLdcInsn(16L);
                m.visitInsn(Opcodes.ICONST_0);
                m.visitMethodInsn(Opcodes.INVOKESTATIC, "dev/kextharness/kpi/Malloc", "_REALLOC", "(JJI)J", false);
                m.visitInsn(Opcodes.POP2);
                net.bytebuddy.jar.asm.Label next = new net.bytebuddy.jar.asm.Label();
                m.visitLabel(next);
                m.visitLineNumber(8, next);
                m.visitMethodInsn(Opcodes.INVOKESTATIC, "com/example/Absent", "run", "()V", false);
            }
            m.visitInsn(Opcodes.ICONST_0);
            m.visitInsn(Opcodes.IRETURN);
            m.visitMaxs(0, 0);
            m.visitEnd();
        }
        cw.visitEnd();
        return cw.toByteArray();
    }
}
