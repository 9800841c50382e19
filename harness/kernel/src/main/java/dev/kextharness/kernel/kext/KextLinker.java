package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kext.KextLinkException.Unresolved;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kpi.Kext;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.asm.AsmVisitorWrapper;
import net.bytebuddy.description.field.FieldDescription;
import net.bytebuddy.description.field.FieldList;
import net.bytebuddy.description.method.MethodList;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.dynamic.scaffold.TypeValidation;
import net.bytebuddy.implementation.Implementation;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.Handle;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.pool.TypePool;
import net.bytebuddy.utility.OpenedClassReader;

import java.lang.invoke.CallSite;
import java.lang.invoke.ConstantCallSite;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kextload's link step. It finds a kext's classes, checks every symbol they use against what the
 * kernel exports ({@link LinkChecker}), and rewrites them with Byte Buddy: each
 * {@code INVOKESTATIC} of a bound KPI function ({@link KpiContract}) becomes an {@code INVOKEDYNAMIC}
 * of the same name and descriptor whose bootstrap ({@link #bootstrap}) binds the call, once, to the
 * kernel that loaded the kext and to a ledger call site (class, method, file, line). After that
 * first call a KPI call is a direct call into the header's {@link KextKpi}: no thread-locals, no
 * stack walking, no lookup.
 *
 * <p>Linked bytes do not depend on the kernel (sites are registered per kernel by the bootstrap),
 * so they are cached per kext class and shared by every load.
 *
 * <p>Stability: internal, except that the bootstrap method is public so that linked kext code
 * can call it.
 */
public final class KextLinker {

    private static final Handle BOOTSTRAP = new Handle(Opcodes.H_INVOKESTATIC,
            KextSource.internalName(KextLinker.class.getName()), "bootstrap",
            MethodType.methodType(CallSite.class, MethodHandles.Lookup.class, String.class, MethodType.class,
                    int.class, String.class, String.class, int.class).toMethodDescriptorString(), false);

    private static final MethodHandles.Lookup LOOKUP = MethodHandles.lookup();
    private static final KpiContract CONTRACT = KpiContract.catalina();

    private static final MethodHandle CALL_AFTER_UNLOAD;
    /** {@link #callAfterUnload} adapted to each KPI descriptor once: unloads only bind the names. */
    private static final Map<MethodType, MethodHandle> AFTER_UNLOAD_BY_TYPE = new ConcurrentHashMap<>();

    static {
        try {
            CALL_AFTER_UNLOAD = LOOKUP.findStatic(KextLinker.class, "callAfterUnload",
                    MethodType.methodType(Object.class, String.class, String.class, Object[].class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Linked images of class path kexts, held as long as the kext class lives. */
    private static final ClassValue<KextImage> CLASS_IMAGES = new ClassValue<>() {
        @Override
        @SuppressWarnings("unchecked")
        protected KextImage computeValue(Class<?> type) {
            return build(KextSource.of((Class<? extends Kext>) type));
        }
    };

    /** Linked images of jar kexts, by jar identity. */
    private static final Map<Object, KextImage> JAR_IMAGES = new ConcurrentHashMap<>();

    private KextLinker() {
    }

    /** The linked image of a kext: from the cache, or read, checked and rewritten now. */
    static KextImage link(KextSource source) {
        Class<?> kextClass = source.kextClass();
        return kextClass != null
                ? CLASS_IMAGES.get(kextClass)
                : JAR_IMAGES.computeIfAbsent(source.cacheKey(), k -> build(source));
    }

    /**
     * The bootstrap of every linked KPI call: registers the call site in the ledger of the kernel
     * that loaded the calling kext, and binds the call to that kext's implementation of the
     * function ({@link KpiContract#target}) with the site id appended. Runs once per call site.
     *
     * @param caller       the calling kext class's lookup
     * @param name         the KPI function, such as {@code _MALLOC}
     * @param type         its descriptor
     * @param function     the function's id in {@link KpiContract}
     * @param callerMethod the calling method
     * @param sourceFile   the calling class's source file, or "" if it has none recorded
     * @param line         the source line, or -1 if unknown
     */
    public static CallSite bootstrap(MethodHandles.Lookup caller, String name, MethodType type, int function,
                                     String callerMethod, String sourceFile, int line) {
        Class<?> callerClass = caller.lookupClass();
        KpiContract contract = KpiContract.catalina();
        KpiContract.Function f = function >= 0 && function < contract.functions().size()
                ? contract.function(function) : null;
        if (f == null || !f.name().equals(name) || !f.descriptor().equals(type.toMethodDescriptorString())) {
            throw new IllegalStateException("KPI call " + name + type + " in " + callerClass.getName()
                    + " names KPI function #" + function + ", which is not it: only kextload links KPI calls");
        }
        if (!caller.hasFullPrivilegeAccess() || !(callerClass.getClassLoader() instanceof KextClassLoader loader)) {
            throw new IllegalStateException(f.signature() + " was linked for " + callerClass.getName()
                    + ", which is not a class of a loaded kext; only kextload links KPI calls");
        }
        LoadedKext kext = loader.kext();
        if (kext == null) {
            return new ConstantCallSite(afterUnload(loader.getName(), name, type));
        }
        KextHost kernel = kext.kernel();
        int site;
        synchronized (kernel.ledger()) {
            site = kernel.ledger().register(kext.loadTag(), kext.bundleId(), name, Family.of(f.family()),
                    callerClass.getName(), callerMethod, sourceFile.isEmpty() ? null : sourceFile, line);
        }
        MutableCallSite callSite = new MutableCallSite(contract.target(f, type, kext.kpi(), kernel, site));
        if (!kext.bound(new Binding(name, callSite))) {
            return new ConstantCallSite(afterUnload(loader.getName(), name, type));
        }
        return callSite;
    }

    /** A KPI call site bound to a loaded kext, and the function it calls. */
    record Binding(String function, MutableCallSite callSite) {
    }

    /** Switches the kext's call sites to {@link #afterUnload}, dropping their hold on its kernel. */
    static void unbind(LoadedKext kext, List<Binding> bindings) {
        if (bindings.isEmpty()) {
            return;
        }
        String name = "kext " + kext.bundleId() + " (load tag " + kext.loadTag() + ")";
        MutableCallSite[] sites = new MutableCallSite[bindings.size()];
        for (int i = 0; i < sites.length; i++) {
            Binding binding = bindings.get(i);
            sites[i] = binding.callSite();
            sites[i].setTarget(afterUnload(name, binding.function(), sites[i].type()));
        }
        MutableCallSite.syncAll(sites);
    }

    /** A target of {@code type} that throws: the calling kext ({@code kextName}) has unloaded. */
    static MethodHandle afterUnload(String kextName, String function, MethodType type) {
        MethodHandle thrower = AFTER_UNLOAD_BY_TYPE.computeIfAbsent(type, t -> CALL_AFTER_UNLOAD
                .asCollector(Object[].class, t.parameterCount())
                .asType(t.insertParameterTypes(0, String.class, String.class)));
        return MethodHandles.insertArguments(thrower, 0, kextName, function);
    }

    private static Object callAfterUnload(String kextName, String function, Object[] args) {
        throw new IllegalStateException(kextName + " was unloaded, but its code called " + function
                + " afterwards: an object of the kext (a service a test kept past kextunload, a thread or a callback) "
                + "outlived it. In XNU the kext's code is gone at unload; get a new service from a new load instead.");
    }

    // ---------------------------------------------------------------------------------------------
    // Building an image

    private static KextImage build(KextSource source) {
        String root = KextSource.internalName(source.kextClassName());
        ClassLoader parent = source.parent();
        byte[] rootBytes = source.bytes(root);
        if (rootBytes == null) {
            return invalid(source, null, "its class file cannot be read from " + source, KextReturn.NOT_A_KEXT);
        }

        // Every class of the kext's scope the kext class reaches, by any path.
        Map<String, ClassInfo> reach = new LinkedHashMap<>();
        Map<String, byte[]> original = new HashMap<>();
        Deque<String> queue = new ArrayDeque<>(List.of(root));
        while (!queue.isEmpty()) {
            String name = queue.poll();
            if (reach.containsKey(name)) {
                continue;
            }
            byte[] bytes = name.equals(root) ? rootBytes : source.bytes(name);
            if (bytes == null) {
                continue;
            }
            ClassInfo info = ClassInfo.parse(bytes);
            reach.put(name, info);
            original.put(name, bytes);
            queue.addAll(info.namedTypes);
        }

        // Public interfaces and annotations stay the host's, so a test can call the kext through
        // them; so do the classes their signatures name, or the two loaders would disagree about
        // them. A non-public one could not be implemented from another loader's package: it is the kext's.
        Set<String> shared = new LinkedHashSet<>();
        for (ClassInfo info : reach.values()) {
            if (info.isInterface() && isShareable(info, root, parent)) {
                shared.add(info.name);
            }
        }
        boolean grew = true;
        while (grew) {
            grew = false;
            for (String s : List.copyOf(shared)) {
                for (String t : reach.get(s).apiTypes) {
                    ClassInfo api = reach.get(t);
                    if (api != null && isShareable(api, root, parent) && shared.add(t)) {
                        grew = true;
                    }
                }
            }
        }

        // The kext's own classes: what the kext class reaches without passing through a shared one.
        Map<String, ClassInfo> own = new LinkedHashMap<>();
        queue.add(root);
        while (!queue.isEmpty()) {
            String name = queue.poll();
            ClassInfo info = reach.get(name);
            if (info == null || shared.contains(name) || own.containsKey(name)) {
                continue;
            }
            own.put(name, info);
            queue.addAll(info.namedTypes);
        }

        ClassInfo kext = reach.get(root);
        Set<String> sharedNames = new LinkedHashSet<>();
        shared.forEach(s -> sharedNames.add(KextSource.binaryName(s)));
        String problem = validate(kext, reach, parent);
        if (problem != null) {
            return new KextImage(source.kextClassName(), kext.bundle, problem,
                    kext.bundle == null ? KextReturn.NOT_A_KEXT : KextReturn.VALIDATION, Map.of(), sharedNames, List.of());
        }

        LinkChecker checker = new LinkChecker(t -> own.containsKey(t) || shared.contains(t), source::inCodeBase, parent,
                KpiContract.libraries(kext.bundle.libraries()));
        List<Unresolved> unresolved = checker.check(new ArrayList<>(own.values()));
        Map<String, byte[]> linked = new LinkedHashMap<>();
        if (unresolved.isEmpty()) {
            Rewriter rewriter = new Rewriter(original, own.keySet(), parent);
            for (ClassInfo info : own.values()) {
                linked.put(info.binaryName(), rewriter.needed(info) ? rewriter.rewrite(info) : original.get(info.name));
            }
        }
        return new KextImage(source.kextClassName(), kext.bundle, null, 0, java.util.Collections.unmodifiableMap(linked),
                sharedNames, unresolved);
    }

    private static KextImage invalid(KextSource source, ClassInfo.Bundle bundle, String problem, int result) {
        return new KextImage(source.kextClassName(), bundle, problem, result, Map.of(), Set.of(), List.of());
    }

    private static boolean isShareable(ClassInfo info, String root, ClassLoader parent) {
        return info.isPublic() && !info.name.equals(root) && visible(parent, info.name);
    }

    private static boolean visible(ClassLoader parent, String internalName) {
        return parent.getResource(internalName + ".class") != null;
    }

    /** What makes a class a loadable kext, beyond its symbols; null if it is one. */
    private static String validate(ClassInfo kext, Map<String, ClassInfo> reach, ClassLoader parent) {
        if (kext.bundle == null) {
            return "it has no @KextBundle, the Java spelling of a kext's Info.plist: annotate the class with "
                    + "@KextBundle(id = \"com.example.mykext\", version = \"1.0\")";
        }
        if (kext.bundle.id() == null || kext.bundle.id().isBlank()) {
            return "its @KextBundle has an empty id: give it a bundle identifier such as com.example.mykext";
        }
        if (kext.isInterface() || kext.isAbstract()) {
            return "it is abstract; the kernel instantiates the kext class, so it must be a concrete class";
        }
        if (!implementsKext(kext.name, reach, parent)) {
            return "it does not implement dev.kextharness.kpi.Kext (its start and stop routines)";
        }
        if (!kext.publicNoArgConstructor) {
            return "it has no public no-argument constructor, which the kernel calls to instantiate it "
                    + "(a kext nested in another class must be declared static)";
        }
        return null;
    }

    private static boolean implementsKext(String name, Map<String, ClassInfo> reach, ClassLoader parent) {
        if (name == null) {
            return false;
        }
        if (name.equals("dev/kextharness/kpi/Kext")) {
            return true;
        }
        ClassInfo info = reach.get(name);
        if (info == null) {
            try {
                return Kext.class.isAssignableFrom(Class.forName(KextSource.binaryName(name), false, parent));
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        }
        for (String i : info.interfaces) {
            if (implementsKext(i, reach, parent)) {
                return true;
            }
        }
        return implementsKext(info.superName, reach, parent);
    }

    // ---------------------------------------------------------------------------------------------
    // Rewriting

    /** Rewrites the classes of one image with Byte Buddy, resolving types among them first. */
    private static final class Rewriter {
        private final Map<String, byte[]> original;
        private final Set<String> own;
        private final ClassFileLocator locator;
        private final TypePool pool;

        Rewriter(Map<String, byte[]> original, Set<String> own, ClassLoader parent) {
            this.original = original;
            this.own = own;
            Map<String, byte[]> byBinaryName = new HashMap<>();
            original.forEach((name, bytes) -> byBinaryName.put(KextSource.binaryName(name), bytes));
            this.locator = new ClassFileLocator.Compound(new ClassFileLocator.Simple(byBinaryName),
                    ClassFileLocator.ForClassLoader.of(parent));
            this.pool = TypePool.Default.of(locator);
        }

        /** A class needs rewriting if it calls a bound KPI function or belongs to a nest. */
        boolean needed(ClassInfo info) {
            return info.callsRoutedKpi || info.nestHost != null || !info.nestMembers.isEmpty();
        }

        byte[] rewrite(ClassInfo info) {
            TypeDescription type = pool.describe(info.binaryName()).resolve();
            // Only the visitor changes the class: no validation, no hierarchy walk, no added members.
            return new ByteBuddy()
                    .with(TypeValidation.DISABLED)
                    .with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE)
                    .with(Implementation.Context.Disabled.Factory.INSTANCE)
                    .redefine(type, locator)
                    .visit(new Linking(own))
                    .make()
                    .getBytes();
        }
    }

    /** The rewriting as a Byte Buddy visitor wrapper. */
    private static final class Linking extends AsmVisitorWrapper.AbstractBase {
        private final Set<String> own;

        Linking(Set<String> own) {
            this.own = own;
        }

        @Override
        public ClassVisitor wrap(TypeDescription instrumentedType, ClassVisitor classVisitor,
                                 Implementation.Context implementationContext, TypePool typePool,
                                 FieldList<FieldDescription.InDefinedShape> fields, MethodList<?> methods,
                                 int writerFlags, int readerFlags) {
            return new LinkingClassVisitor(classVisitor, own);
        }
    }

    private static final class LinkingClassVisitor extends ClassVisitor {
        private final Set<String> own;
        private String sourceFile = "";

        LinkingClassVisitor(ClassVisitor next, Set<String> own) {
            super(OpenedClassReader.ASM_API, next);
            this.own = own;
        }

        @Override
        public void visitSource(String source, String debug) {
            sourceFile = source == null ? "" : source;
            super.visitSource(source, debug);
        }

        // A nest whose host is not the kext's would not verify in the kext's loader: keep only
        // nest links among the kext's own classes.
        @Override
        public void visitNestHost(String nestHost) {
            if (own.contains(nestHost)) {
                super.visitNestHost(nestHost);
            }
        }

        @Override
        public void visitNestMember(String nestMember) {
            if (own.contains(nestMember)) {
                super.visitNestMember(nestMember);
            }
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                         String[] exceptions) {
            MethodVisitor next = super.visitMethod(access, name, descriptor, signature, exceptions);
            return next == null ? null : new LinkingMethodVisitor(next, name, sourceFile);
        }
    }

    private static final class LinkingMethodVisitor extends MethodVisitor {
        private final String method;
        private final String sourceFile;
        private int line = -1;

        LinkingMethodVisitor(MethodVisitor next, String method, String sourceFile) {
            super(OpenedClassReader.ASM_API, next);
            this.method = method;
            this.sourceFile = sourceFile;
        }

        @Override
        public void visitLineNumber(int line, Label start) {
            this.line = line;
            super.visitLineNumber(line, start);
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            KpiContract.Function f = opcode == Opcodes.INVOKESTATIC ? CONTRACT.function(owner, name, descriptor) : null;
            if (f != null && f.bound()) {
                super.visitInvokeDynamicInsn(name, descriptor, BOOTSTRAP, f.id(), method, sourceFile, line);
            } else {
                super.visitMethodInsn(opcode, owner, name, descriptor, isInterface);
            }
        }
    }
}
