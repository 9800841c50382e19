package dev.kextharness.kernel.kext;

import dev.kextharness.kpi.KextBundle;
import net.bytebuddy.jar.asm.AnnotationVisitor;
import net.bytebuddy.jar.asm.ClassVisitor;
import net.bytebuddy.jar.asm.ConstantDynamic;
import net.bytebuddy.jar.asm.FieldVisitor;
import net.bytebuddy.jar.asm.Handle;
import net.bytebuddy.jar.asm.Label;
import net.bytebuddy.jar.asm.MethodVisitor;
import net.bytebuddy.jar.asm.Opcodes;
import net.bytebuddy.jar.asm.Type;
import net.bytebuddy.utility.OpenedClassReader;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What one class file refers to, read with ASM before anything is defined: the classes it names
 * (to find the kext's classes), every symbol it uses and where (for the link check), and its
 * {@code @KextBundle}. InnerClasses, NestHost, NestMembers and EnclosingMethod are not followed:
 * they name the classes around a nested kext, which the kext does not use.
 */
final class ClassInfo {
    static final String KEXT_BUNDLE = "Ldev/kextharness/kpi/KextBundle;";

    /** Bootstrap methods javac emits for lambdas, string concatenation, records and switches. */
    private static final Set<String> JAVAC_BOOTSTRAPS = Set.of(
            "java/lang/invoke/LambdaMetafactory", "java/lang/invoke/StringConcatFactory",
            "java/lang/runtime/ObjectMethods", "java/lang/runtime/SwitchBootstraps");

    enum Kind { TYPE, FIELD, METHOD, HANDLE }

    /**
     * One use of a symbol.
     *
     * @param kind     what is used
     * @param owner    the class (internal name; an array's element class)
     * @param name     the member name, or null for a type
     * @param desc     the member descriptor, or null for a type
     * @param isStatic true for an INVOKESTATIC or a static method handle
     * @param resolved true if the JVM resolves the class here (not merely names it in a descriptor)
     * @param where    {@code Class.method(File.java:line)} or the declaration that names it
     */
    record Reference(Kind kind, String owner, String name, String desc, boolean isStatic, boolean resolved,
                     String where) {
    }

    /** The {@code @KextBundle} values; {@code libraries} as written (the default four if none). */
    record Bundle(String id, String version, List<String> dependencies, List<String> libraries) {
    }

    String name;
    int access;
    String superName;
    String[] interfaces = new String[0];
    String sourceFile;
    String nestHost;
    final List<String> nestMembers = new ArrayList<>();
    Bundle bundle;
    boolean publicNoArgConstructor;
    /** True if some call is an INVOKESTATIC of a routed KPI class: the class must be rewritten. */
    boolean callsRoutedKpi;
    /** Every class named anywhere in the class (internal names). */
    final Set<String> namedTypes = new LinkedHashSet<>();
    /** Classes named in the descriptors of its non-private members: what a caller of it sees. */
    final Set<String> apiTypes = new LinkedHashSet<>();
    final Set<Reference> references = new LinkedHashSet<>();

    private ClassInfo() {
    }

    static ClassInfo parse(byte[] bytes) {
        ClassInfo info = new ClassInfo();
        OpenedClassReader.of(bytes).accept(info.new Reader(), 0);
        return info;
    }

    boolean isInterface() {
        return (access & Opcodes.ACC_INTERFACE) != 0; // annotations are interfaces too
    }

    boolean isPublic() {
        return (access & Opcodes.ACC_PUBLIC) != 0;
    }

    boolean isAbstract() {
        return (access & Opcodes.ACC_ABSTRACT) != 0;
    }

    String binaryName() {
        return KextSource.binaryName(name);
    }

    /** {@code com.example.Kext.start(Kext.java:17)}, as a Java stack trace names a frame. */
    String location(String method, int line) {
        String file = sourceFile == null ? "Unknown Source" : line >= 0 ? sourceFile + ":" + line : sourceFile;
        return binaryName() + "." + method + "(" + file + ")";
    }

    /** The libraries a {@code @KextBundle} that names none links against (its default, read from the annotation). */
    private static final List<String> DEFAULT_LIBRARIES = defaultLibraries();

    private static List<String> defaultLibraries() {
        try {
            return List.of((String[]) KextBundle.class.getMethod("libraries").getDefaultValue());
        } catch (NoSuchMethodException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    static boolean isRoutedKpi(String owner, String name, String descriptor) {
        return KpiContract.catalina().isBound(owner, name, descriptor);
    }

    private void type(Type type, boolean resolved, String where) {
        switch (type.getSort()) {
            case Type.ARRAY -> type(type.getElementType(), resolved, where);
            case Type.OBJECT -> {
                namedTypes.add(type.getInternalName());
                references.add(new Reference(Kind.TYPE, type.getInternalName(), null, null, false, resolved, where));
            }
            case Type.METHOD -> descriptor(type.getDescriptor(), where);
            default -> { }
        }
    }

    private void internal(String internalName, boolean resolved, String where) {
        if (internalName != null) {
            type(internalName.startsWith("[") ? Type.getType(internalName) : Type.getObjectType(internalName),
                    resolved, where);
        }
    }

    /** The classes a descriptor names: not resolved there, but visible to the link check's bans. */
    private void descriptor(String desc, String where) {
        Type t = Type.getType(desc);
        if (t.getSort() == Type.METHOD) {
            for (Type arg : t.getArgumentTypes()) {
                type(arg, false, where);
            }
            type(t.getReturnType(), false, where);
        } else {
            type(t, false, where);
        }
    }

    private void apiDescriptor(String desc) {
        apiTypes.addAll(LinkChecker.descriptorTypes(desc));
    }

    private void member(Kind kind, String owner, String name, String desc, boolean isStatic, String where) {
        Type ownerType = owner.startsWith("[") ? Type.getType(owner) : Type.getObjectType(owner);
        if (ownerType.getSort() == Type.ARRAY) {
            ownerType = ownerType.getElementType();
            if (ownerType.getSort() != Type.OBJECT) {
                return; // clone() of a primitive array
            }
        }
        String resolvedOwner = ownerType.getInternalName();
        namedTypes.add(resolvedOwner);
        references.add(new Reference(kind, resolvedOwner, name, desc, isStatic, true, where));
        descriptor(desc, where);
    }

    private void handle(Handle handle, String where) {
        Kind kind = handle.getTag() <= Opcodes.H_PUTSTATIC ? Kind.FIELD : Kind.HANDLE;
        boolean isStatic = handle.getTag() == Opcodes.H_INVOKESTATIC || handle.getTag() == Opcodes.H_GETSTATIC
                || handle.getTag() == Opcodes.H_PUTSTATIC;
        member(kind, handle.getOwner(), handle.getName(), handle.getDesc(), isStatic, where);
    }

    private void constant(Object value, String where) {
        if (value instanceof Type t) {
            type(t, t.getSort() != Type.METHOD, where);
        } else if (value instanceof Handle h) {
            handle(h, where);
        } else if (value instanceof ConstantDynamic c) {
            bootstrap(c.getBootstrapMethod(), where);
            descriptor(c.getDescriptor(), where);
            for (int i = 0; i < c.getBootstrapMethodArgumentCount(); i++) {
                constant(c.getBootstrapMethodArgument(i), where);
            }
        }
    }

    private void bootstrap(Handle bsm, String where) {
        // javac's own bootstraps live in java.lang.invoke, which kext code may not name itself.
        if (!JAVAC_BOOTSTRAPS.contains(bsm.getOwner())) {
            handle(bsm, where);
        }
    }

    private final class Reader extends ClassVisitor {
        Reader() {
            super(OpenedClassReader.ASM_API);
        }

        @Override
        public void visit(int version, int access, String name, String signature, String superName,
                          String[] interfaces) {
            ClassInfo.this.name = name;
            ClassInfo.this.access = access;
            ClassInfo.this.superName = superName;
            ClassInfo.this.interfaces = interfaces == null ? new String[0] : interfaces;
            internal(superName, true, declaration());
            for (String i : ClassInfo.this.interfaces) {
                internal(i, true, declaration());
            }
        }

        @Override
        public void visitSource(String source, String debug) {
            sourceFile = source;
        }

        private String declaration() {
            return binaryName() + " (class declaration)";
        }

        @Override
        public void visitNestHost(String host) {
            nestHost = host;
        }

        @Override
        public void visitNestMember(String member) {
            nestMembers.add(member);
        }

        @Override
        public AnnotationVisitor visitAnnotation(String descriptor, boolean visible) {
            if (!KEXT_BUNDLE.equals(descriptor)) {
                return null;
            }
            return new BundleReader();
        }

        @Override
        public FieldVisitor visitField(int access, String name, String descriptor, String signature, Object value) {
            descriptor(descriptor, binaryName() + "." + name + " (field declaration)");
            if ((access & Opcodes.ACC_PRIVATE) == 0) {
                apiDescriptor(descriptor);
            }
            return null;
        }

        @Override
        public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                         String[] exceptions) {
            if ("<init>".equals(name) && "()V".equals(descriptor) && (access & Opcodes.ACC_PUBLIC) != 0) {
                publicNoArgConstructor = true;
            }
            String declared = binaryName() + "." + name + " (method declaration)";
            descriptor(descriptor, declared);
            if ((access & Opcodes.ACC_PRIVATE) == 0) {
                apiDescriptor(descriptor);
            }
            if (exceptions != null) {
                for (String e : exceptions) {
                    internal(e, false, declared);
                }
            }
            return new CodeReader(name);
        }

    }

    private final class BundleReader extends AnnotationVisitor {
        private String id;
        private String version = "1.0";
        private final List<String> dependencies = new ArrayList<>();
        private List<String> libraries;

        BundleReader() {
            super(OpenedClassReader.ASM_API);
        }

        @Override
        public void visit(String name, Object value) {
            if ("id".equals(name)) {
                id = (String) value;
            } else if ("version".equals(name)) {
                version = (String) value;
            }
        }

        @Override
        public AnnotationVisitor visitArray(String name) {
            List<String> values;
            if ("dependencies".equals(name)) {
                values = dependencies;
            } else if ("libraries".equals(name)) {
                values = libraries = new ArrayList<>();
            } else {
                return null;
            }
            return new AnnotationVisitor(OpenedClassReader.ASM_API) {
                @Override
                public void visit(String ignored, Object value) {
                    values.add((String) value);
                }
            };
        }

        @Override
        public void visitEnd() {
            List<String> named = libraries != null ? libraries : DEFAULT_LIBRARIES;
            bundle = new Bundle(id, version, List.copyOf(dependencies), List.copyOf(named));
        }
    }

    private final class CodeReader extends MethodVisitor {
        private final String method;
        private int line = -1;

        CodeReader(String method) {
            super(OpenedClassReader.ASM_API);
            this.method = method;
        }

        private String where() {
            return location(method, line);
        }

        @Override
        public void visitLineNumber(int line, Label start) {
            this.line = line;
        }

        @Override
        public void visitTypeInsn(int opcode, String type) {
            internal(type, true, where());
        }

        @Override
        public void visitFieldInsn(int opcode, String owner, String name, String descriptor) {
            boolean isStatic = opcode == Opcodes.GETSTATIC || opcode == Opcodes.PUTSTATIC;
            member(Kind.FIELD, owner, name, descriptor, isStatic, where());
        }

        @Override
        public void visitMethodInsn(int opcode, String owner, String name, String descriptor, boolean isInterface) {
            boolean isStatic = opcode == Opcodes.INVOKESTATIC;
            if (isStatic && isRoutedKpi(owner, name, descriptor)) {
                callsRoutedKpi = true;
            }
            member(Kind.METHOD, owner, name, descriptor, isStatic, where());
        }

        @Override
        public void visitInvokeDynamicInsn(String name, String descriptor, Handle bsm, Object... args) {
            bootstrap(bsm, where());
            descriptor(descriptor, where());
            for (Object arg : args) {
                constant(arg, where());
            }
        }

        @Override
        public void visitLdcInsn(Object value) {
            constant(value, where());
        }

        @Override
        public void visitMultiANewArrayInsn(String descriptor, int dimensions) {
            type(Type.getType(descriptor), true, where());
        }

        @Override
        public void visitTryCatchBlock(Label start, Label end, Label handler, String type) {
            internal(type, true, location(method, -1));
        }
    }
}
