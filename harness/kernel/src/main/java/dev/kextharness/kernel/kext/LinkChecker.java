package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kext.ClassInfo.Kind;
import dev.kextharness.kernel.kext.ClassInfo.Reference;
import dev.kextharness.kernel.kext.KextLinkException.Unresolved;
import dev.kextharness.kpi.KpiLibrary;
import net.bytebuddy.jar.asm.Type;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The link step's symbol check, run on a kext's original class files before anything is defined:
 * every class, field and method the kext uses must be exported to it, as kxld resolves a kext's
 * undefined symbols against the KPI of its dependencies. Exported are the KPI facade
 * ({@code dev.kextharness.kpi}, member by member, each KPI function only if one of the kext's
 * libraries exports it: {@link KpiLinkCheck}), the JDK's basic packages, the kext's own
 * classes and other libraries on its class path. Not exported: the simulated kernel's internals,
 * reflection and class loading, threads, and what acts on the whole JVM.
 */
final class LinkChecker {

    /** Why a symbol is refused; the tag shows on each line, the explanation once below. */
    enum Rule {
        KERNEL_PRIVATE("kernel-private", "dev.kextharness.* outside dev.kextharness.kpi is the simulated kernel's "
                + "own code, private to it as XNU's unexported symbols are. Use the KPI function that does the job."),
        REFLECTION("reflection", "reflection, method handles and class loading (java.lang.reflect, java.lang.invoke, "
                + "Class.forName, Class.getDeclared*/getMethod*/getField*/getConstructor*, ClassLoader, sun.misc.Unsafe, "
                + "jdk.internal) would let a kext reach past the KPI into the kernel. Call the KPI directly."),
        THREAD("thread", "threads belong to the kernel: a kext must not create them itself (java.lang.Thread, "
                + "java.util.concurrent.Executor*, ForkJoinPool, CompletableFuture, Timer, parallel streams); it gets "
                + "them through the KPI, so its work stays on the kernel's threads and in its ledger."),
        JVM_GLOBAL("JVM-wide", "System.exit, System.set*, Runtime.exec/halt/shutdown hooks, processes and JMX act on "
                + "the whole JVM, which hosts many kernels at once. A kext reports failure through its kern_return_t."),
        MISSING("missing class", "the class is on neither the kext's class path nor the JDK's; it would fail with "
                + "NoClassDefFoundError. Add the library it comes from to the class path the kext is loaded from.");

        final String tag;
        final String explanation;

        Rule(String tag, String explanation) {
            this.tag = tag;
            this.explanation = explanation;
        }
    }

    private static final Set<String> CLASS_REFLECTION = Set.of("forName", "newInstance", "getClassLoader",
            "getModule", "getProtectionDomain");
    private static final Set<String> SYSTEM_GLOBAL = Set.of("exit", "load", "loadLibrary", "setIn", "setOut",
            "setErr", "setProperty", "setProperties", "clearProperty", "setSecurityManager", "runFinalization");
    private static final Set<String> RUNTIME_GLOBAL = Set.of("exit", "halt", "exec", "addShutdownHook",
            "removeShutdownHook", "load", "loadLibrary", "runFinalization");

    private final Predicate<String> kextClass;
    private final Predicate<String> codeBase;
    private final ClassLoader parent;
    private final Map<String, Boolean> onClassPath = new HashMap<>();
    private final KpiLinkCheck kpi;

    /**
     * @param kextClass true for classes that belong to the kext or to its package's shared interfaces
     * @param codeBase  true for classes from the kext's own class path entry or jar
     * @param parent    the loader everything else resolves through
     * @param libraries the KPI libraries the kext links against
     */
    LinkChecker(Predicate<String> kextClass, Predicate<String> codeBase, ClassLoader parent,
                Collection<KpiLibrary> libraries) {
        this.kextClass = kextClass;
        this.codeBase = codeBase;
        this.parent = parent;
        this.kpi = new KpiLinkCheck(libraries, parent);
    }

    /** Every unresolved symbol of these classes, in the order their code uses them. */
    List<Unresolved> check(List<ClassInfo> classes) {
        List<Reference> refs = new ArrayList<>();
        List<Unresolved> found = new ArrayList<>();
        Set<String> memberSites = new HashSet<>();
        for (ClassInfo info : classes) {
            for (Reference ref : info.references) {
                boolean facade = KpiLinkCheck.isFacade(ref.owner()) && !kextClass.test(ref.owner());
                Rule rule = facade ? null : rule(ref);
                String tag = facade ? kpi.check(ref) : rule == null ? null : rule.tag;
                if (tag != null) {
                    refs.add(ref);
                    String kpiSymbol = facade ? kpi.symbol(ref) : null;
                    found.add(new Unresolved(kpiSymbol != null ? kpiSymbol : symbol(ref), ref.where(), tag));
                    if (ref.kind() != Kind.TYPE) {
                        memberSites.add(ref.owner() + "|" + ref.where());
                        for (String t : descriptorTypes(ref.desc())) {
                            memberSites.add(t + "|" + ref.where());
                        }
                    }
                }
            }
        }
        // "new Thread(r).start()" names Thread three times on one line, and a refused method names the
        // classes of its signature: the members say enough.
        Set<Unresolved> out = new LinkedHashSet<>();
        for (int i = 0; i < found.size(); i++) {
            Reference ref = refs.get(i);
            if (ref.kind() != Kind.TYPE || !memberSites.contains(ref.owner() + "|" + ref.where())) {
                out.add(found.get(i));
            }
        }
        return List.copyOf(out);
    }

    /** The explanation of a rule's tag, the KPI side's included. */
    static String explanation(String tag) {
        for (Rule r : Rule.values()) {
            if (r.tag.equals(tag)) {
                return r.explanation;
            }
        }
        String kpiRule = KpiLinkCheck.explanation(tag);
        if (kpiRule == null) {
            throw new IllegalArgumentException(tag);
        }
        return kpiRule;
    }

    private Rule rule(Reference ref) {
        String owner = ref.owner();
        if (kextClass.test(owner)) {
            return null;
        }
        Rule banned = banned(owner, ref);
        if (banned == Rule.KERNEL_PRIVATE && codeBase.test(owner)) {
            banned = null; // the kext's own code base, not the kernel's, whatever its package name
        }
        if (banned != null) {
            return banned;
        }
        if (ref.desc() != null) {
            // A member whose signature names a banned class is as banned (Class.getClassLoader()).
            for (String t : descriptorTypes(ref.desc())) {
                Rule r = kextClass.test(t) || codeBase.test(t) ? null : banned(t, null);
                if (r != null) {
                    return r;
                }
            }
        }
        if (ref.resolved() && !onClassPath(owner)) {
            return Rule.MISSING;
        }
        return null;
    }

    /** The rule that bans a class outright, or a member of it (null ref: the class alone). */
    private static Rule banned(String owner, Reference ref) {
        String member = ref == null || ref.kind() == Kind.TYPE ? null : ref.name();
        if (owner.startsWith("dev/kextharness/")) {
            return Rule.KERNEL_PRIVATE;
        }
        if (owner.startsWith("java/lang/reflect/") || owner.startsWith("java/lang/invoke/")
                || owner.startsWith("java/lang/instrument/") || owner.startsWith("sun/") || owner.startsWith("com/sun/")
                || owner.startsWith("jdk/") || owner.startsWith("javax/script/") || owner.startsWith("javax/tools/")
                || owner.equals("java/lang/Module") || owner.equals("java/lang/ModuleLayer")
                || owner.equals("java/lang/StackWalker") || (owner.startsWith("java/") && owner.endsWith("ClassLoader"))) {
            return Rule.REFLECTION;
        }
        if (owner.equals("java/lang/Class") && member != null && (CLASS_REFLECTION.contains(member)
                || member.startsWith("getDeclared") || member.startsWith("getMethod") || member.startsWith("getField")
                || member.startsWith("getConstructor"))) {
            return Rule.REFLECTION;
        }
        if (isThreadClass(owner) || (member != null && member.startsWith("parallel") && owner.startsWith("java/util/"))) {
            return Rule.THREAD;
        }
        if (owner.equals("java/lang/ProcessBuilder") || owner.equals("java/lang/Process")
                || owner.equals("java/lang/ProcessHandle") || owner.startsWith("java/lang/management/")
                || owner.startsWith("javax/management/")
                || (owner.equals("java/lang/System") && member != null && SYSTEM_GLOBAL.contains(member))
                || (owner.equals("java/lang/Runtime") && member != null && RUNTIME_GLOBAL.contains(member))) {
            return Rule.JVM_GLOBAL;
        }
        return null;
    }

    private static boolean isThreadClass(String owner) {
        if (owner.equals("java/lang/Thread") || owner.startsWith("java/lang/Thread$")
                || owner.equals("java/lang/ThreadGroup") || owner.equals("java/util/Timer")
                || owner.equals("java/lang/ref/Cleaner")) {
            return true;
        }
        if (!owner.startsWith("java/util/concurrent/") || owner.indexOf('/', "java/util/concurrent/".length()) >= 0) {
            return false;
        }
        String simple = owner.substring("java/util/concurrent/".length());
        return simple.contains("Executor") || simple.startsWith("ForkJoin") || simple.startsWith("CompletableFuture")
                || simple.equals("ThreadFactory") || simple.startsWith("StructuredTaskScope")
                || simple.equals("SubmissionPublisher");
    }

    /** The classes a field or method descriptor names (array element types included). */
    static List<String> descriptorTypes(String desc) {
        Type t = Type.getType(desc);
        List<Type> types = new ArrayList<>();
        if (t.getSort() == Type.METHOD) {
            types.addAll(List.of(t.getArgumentTypes()));
            types.add(t.getReturnType());
        } else {
            types.add(t);
        }
        List<String> out = new ArrayList<>();
        for (Type each : types) {
            Type element = each.getSort() == Type.ARRAY ? each.getElementType() : each;
            if (element.getSort() == Type.OBJECT) {
                out.add(element.getInternalName());
            }
        }
        return out;
    }

    private boolean onClassPath(String owner) {
        return onClassPath.computeIfAbsent(owner, o -> parent.getResource(o + ".class") != null);
    }

    /** How kxld-style output names a symbol: the class, {@code Class.field:type} or {@code Class.method(desc)}. */
    private static String symbol(Reference ref) {
        String owner = KextSource.binaryName(ref.owner());
        return switch (ref.kind()) {
            case TYPE -> owner;
            case FIELD -> owner + "." + ref.name() + ":" + ref.desc();
            case METHOD, HANDLE -> owner + "." + ref.name() + ref.desc();
        };
    }
}
