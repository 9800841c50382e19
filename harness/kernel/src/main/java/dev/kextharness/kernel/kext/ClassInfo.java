package dev.kextharness.kernel.kext;

import dev.kextharness.kpi.KextBundle;
import net.bytebuddy.ClassFileVersion;
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
import java.util.HashSet;
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
    /** Methods and fields the class declares itself: name+descriptor (fields as name:descriptor). */
    final Set<String> declaredMembers = new LinkedHashSet<>();
    /** Its static fields, for the rule that a type shared with the test holds no state. */
    final List<StaticField> staticFields = new ArrayList<>();
    /** An enum's non-final instance fields: each constant is a singleton, so these are static state too. */
    final List<String> mutableEnumFields = new ArrayList<>();
    /** Where its code jumps backwards (a loop), as {@code Class.method(File.java:line)}. */
    final List<String> loops = new ArrayList<>();

    /**
     * A static field.
     *
     * @param constant true for a {@code static final} primitive or String with a compile-time value
     * @param enumManaged true for an enum's constants and its synthetic {@code $VALUES}
     */
    record StaticField(String name, String desc, boolean constant, boolean enumManaged) {
    }

    private ClassInfo() {
    }

    /**
     * Reads a class file.
     *
     * @throws MalformedClassException if it is not a class file, is cut short or is corrupt
     */
    static ClassInfo parse(byte[] bytes) {
        checkHeader(bytes);
        ClassInfo info = new ClassInfo();
        try {
            OpenedClassReader.of(bytes).accept(info.new Reader(), 0);
        } catch (RuntimeException e) {
            // ASM trusts the file's own offsets: a truncated file reads past its end, a corrupt one anywhere.
            throw new MalformedClassException("is truncated or corrupt: reading its " + bytes.length + " bytes failed ("
                    + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
        }
        return info;
    }

    /** Java 1.0's class file major version; every later release adds one. */
    private static final int FIRST_MAJOR_VERSION = 45;

    /** The magic number and a version the class reader knows, before the reader trusts anything else. */
    private static void checkHeader(byte[] bytes) {
        if (bytes.length < 10) {
            throw new MalformedClassException("is " + bytes.length + " bytes long, too short for a class file");
        }
        int magic = ((bytes[0] & 0xff) << 24) | ((bytes[1] & 0xff) << 16) | ((bytes[2] & 0xff) << 8) | (bytes[3] & 0xff);
        if (magic != 0xCAFEBABE) {
            throw new MalformedClassException("is not a class file: it starts with 0x" + String.format("%08x", magic)
                    + ", not 0xcafebabe");
        }
        int major = ((bytes[6] & 0xff) << 8) | (bytes[7] & 0xff);
        int newest = ClassFileVersion.latest().getMajorVersion();
        if (major < FIRST_MAJOR_VERSION || major > newest) {
            throw new MalformedClassException("has class file version " + major + ", which is "
                    + (major < FIRST_MAJOR_VERSION ? "no Java version (corrupt?)" : "newer than the harness reads (at most "
                    + newest + ", Java " + (newest - FIRST_MAJOR_VERSION + 1) + "): compile the kext for an older release"));
        }
    }

    /** A class file that cannot be read; the message says what is wrong with it. */
    static final class MalformedClassException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        MalformedClassException(String problem) {
            super(problem, null, false, false);
        }
    }

    boolean isInterface() {
        return (access & Opcodes.ACC_INTERFACE) != 0; // annotations are interfaces too
    }

    boolean isPublic() {
        return (access & Opcodes.ACC_PUBLIC) != 0;
    }

    boolean isEnum() {
        return (access & Opcodes.ACC_ENUM) != 0;
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
            declaredMembers.add(name + ":" + descriptor);
            if ((access & Opcodes.ACC_STATIC) != 0) {
                boolean isFinal = (access & Opcodes.ACC_FINAL) != 0;
                boolean constant = isFinal && value != null;
                boolean enumManaged = (ClassInfo.this.access & Opcodes.ACC_ENUM) != 0 && isFinal
                        && ((access & Opcodes.ACC_ENUM) != 0 || (access & Opcodes.ACC_SYNTHETIC) != 0);
                staticFields.add(new StaticField(name, descriptor, constant, enumManaged));
            } else if ((access & Opcodes.ACC_FINAL) == 0 && isEnum()) {
                mutableEnumFields.add(name + ":" + descriptor); // state of a constant, shared as the constant is
            }
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
            declaredMembers.add(name + descriptor);
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
        /** Labels already passed: a jump to one of them is a back-edge. */
        private final Set<Label> passed = new HashSet<>();

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
        public void visitLabel(Label label) {
            passed.add(label);
        }

        @Override
        public void visitJumpInsn(int opcode, Label label) {
            if (passed.contains(label)) {
                loops.add(where());
            }
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
