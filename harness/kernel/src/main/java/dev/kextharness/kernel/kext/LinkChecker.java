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
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The link step's symbol check, run on a kext's original class files before anything is defined:
 * every class, field and method the kext uses must be exported to it, as kxld resolves a kext's
 * undefined symbols against the KPI of its dependencies. It covers every class the kext can run:
 * its own (any package, any jar) and the types it shares with its test. Exported are the KPI facade
 * ({@code dev.kextharness.kpi}, member by member, each KPI function only if one of the kext's
 * libraries exports it: {@link KpiLinkCheck}), the kext's own classes and the JDK's
 * {@link JdkAllowlist}; the simulated kernel and the harness's libraries are not. A shared type
 * must also hold no static state and use nothing of the kext's ({@link CodeRule#SHARED_STATE},
 * {@link CodeRule#SHARED_CODE}).
 */
final class LinkChecker {

    /** Why a symbol is refused; the tag shows on each line, the explanation once below. */
    enum Rule {
        KERNEL_PRIVATE("kernel-private", "dev.kextharness.* outside dev.kextharness.kpi is the simulated kernel's "
                + "own code, private to it as XNU's unexported symbols are. Use the KPI function that does the job."),
        MISSING("missing class", "the class is on neither the kext's class path nor the JDK's; it would fail with "
                + "NoClassDefFoundError. Add the library it comes from to the class path the kext is loaded from.");

        final String tag;
        final String explanation;

        Rule(String tag, String explanation) {
            this.tag = tag;
            this.explanation = explanation;
        }
    }

    private final Predicate<String> own;
    private final Predicate<String> shared;
    private final Predicate<String> codeBase;
    private final Function<String, ClassInfo> classes;
    private final ClassLoader parent;
    private final Map<String, Boolean> onClassPath = new HashMap<>();
    private final Map<String, Boolean> jdk = new HashMap<>();
    private final KpiLinkCheck kpi;

    /**
     * @param own      true for the kext's own classes, defined in its loader
     * @param shared   true for the types it shares with its test, loaded by {@code parent}
     * @param codeBase true for classes from the kext's own class path entry or jar
     * @param classes  the class file of a kext or shared class (null for others), for inherited members
     * @param parent    the loader everything else resolves through
     * @param libraries the KPI libraries the kext links against
     */
    LinkChecker(Predicate<String> own, Predicate<String> shared, Predicate<String> codeBase,
                Function<String, ClassInfo> classes, ClassLoader parent, Collection<KpiLibrary> libraries) {
        this.own = own;
        this.shared = shared;
        this.codeBase = codeBase;
        this.classes = classes;
        this.parent = parent;
        this.kpi = new KpiLinkCheck(libraries, parent);
    }

    /** Every unresolved symbol of these classes, in the order their code uses them. */
    List<Unresolved> check(List<ClassInfo> classes) {
        List<Reference> refs = new ArrayList<>();
        List<Unresolved> found = new ArrayList<>();
        Set<String> memberSites = new HashSet<>();
        for (ClassInfo info : classes) {
            boolean isShared = shared.test(info.name);
            for (Unresolved declared : declarations(info, isShared)) {
                refs.add(null);
                found.add(declared);
            }
            for (Reference ref : info.references) {
                String rule = isShared ? sharedRule(ref) : rule(ref);
                if (rule != null) {
                    refs.add(ref);
                    String kpiSymbol = KpiLinkCheck.isFacade(ref.owner()) ? kpi.symbol(ref) : null;
                    found.add(new Unresolved(kpiSymbol != null ? kpiSymbol : symbol(ref), ref.where(), rule));
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
            if (ref == null || ref.kind() != Kind.TYPE || !memberSites.contains(ref.owner() + "|" + ref.where())) {
                out.add(found.get(i));
            }
        }
        return List.copyOf(out);
    }

    /** The explanation printed once under the unresolved symbols that carry this tag, the KPI side's included. */
    static String explanation(String tag) {
        for (Rule r : Rule.values()) {
            if (r.tag.equals(tag)) {
                return r.explanation;
            }
        }
        String kpiRule = KpiLinkCheck.explanation(tag);
        if (kpiRule != null) {
            return kpiRule;
        }
        CodeRule code = CodeRule.byTag(tag);
        if (code == null) {
            throw new IllegalArgumentException(tag);
        }
        return code.explanation;
    }

    /** The tag of the rule a reference from the kext's own code breaks, or null if it links. */
    private String rule(Reference ref) {
        String owner = ref.owner();
        if (own.test(owner) || shared.test(owner)) {
            return ref.kind() == Kind.TYPE ? null : inherited(ref);
        }
        if (KpiLinkCheck.isFacade(owner)) {
            return kpi.check(ref);
        }
        String refused = refusal(ref.kind(), owner, ref.name(), ref.desc());
        if (refused != null) {
            return refused;
        }
        if (!isJdk(owner) && ref.resolved() && !onClassPath(owner)) {
            return Rule.MISSING.tag;
        }
        return descriptorRule(ref);
    }

    /**
     * The rule a reference from a shared type breaks: a shared type is loaded by the test's loader,
     * so it may not use the kext's own classes nor call routed KPI functions (nothing links them there).
     */
    private String sharedRule(Reference ref) {
        if (own.test(ref.owner())) {
            return CodeRule.SHARED_CODE.tag;
        }
        if (ref.kind() == Kind.METHOD && ref.isStatic() && ClassInfo.isRoutedKpi(ref.owner(), ref.name(), ref.desc())) {
            return CodeRule.SHARED_CODE.tag;
        }
        return rule(ref);
    }

    /**
     * What a class declares that kext code may not: a finalizer (the JVM's finalizer thread would run
     * it, after the kext and its kernel are gone) and, in a shared type, static state: everything but
     * compile-time constants and an enum's own constants.
     */
    private static List<Unresolved> declarations(ClassInfo info, boolean isShared) {
        List<Unresolved> out = new ArrayList<>();
        if (info.declaredMembers.contains("finalize()V")) {
            out.add(new Unresolved(info.binaryName() + ".finalize()V", info.binaryName()
                    + ".finalize (method declaration)", CodeRule.THREAD.tag));
        }
        if (!isShared) {
            return out;
        }
        for (ClassInfo.StaticField f : info.staticFields) {
            if (!f.constant() && !f.enumManaged()) {
                out.add(new Unresolved(info.binaryName() + "." + f.name() + ":" + f.desc(),
                        info.binaryName() + "." + f.name() + " (static field of a shared type)", CodeRule.SHARED_STATE.tag));
            }
        }
        for (String f : info.mutableEnumFields) {
            out.add(new Unresolved(info.binaryName() + "." + f, info.binaryName() + "." + f.substring(0, f.indexOf(':'))
                    + " (non-final field of a shared enum)", CodeRule.SHARED_STATE.tag));
        }
        // Shared code is not rewritten, so it has no preemption points: a loop there could not be stopped.
        for (String loop : info.loops) {
            out.add(new Unresolved("(a loop in shared code)", loop, CodeRule.SHARED_CODE.tag));
        }
        return out;
    }

    /**
     * A method used through a class of the kext that does not declare it resolves to a JDK ancestor
     * (a kext class extending ConcurrentHashMap, calling this.wait()), whose rules apply: refused if
     * an ancestor refuses it by name, allowed if an ancestor allows it.
     */
    private String inherited(Reference ref) {
        if (ref.kind() == Kind.FIELD) {
            return null; // JDK fields kext code may inherit are constants of allowed classes
        }
        String member = ref.name() + ref.desc();
        List<String> jdkAncestors = new ArrayList<>();
        boolean otherAncestor = false;
        Set<String> seen = new HashSet<>();
        List<String> queue = new ArrayList<>(List.of(ref.owner()));
        while (!queue.isEmpty()) {
            String name = queue.remove(queue.size() - 1);
            if (name == null || !seen.add(name)) {
                continue;
            }
            ClassInfo info = classes.apply(name);
            if (info == null) {
                if (isJdk(name)) {
                    jdkAncestors.add(name);
                } else {
                    otherAncestor = true; // the KPI (checked where named), or a class reported where it is named
                }
                continue;
            }
            if (info.declaredMembers.contains(member)) {
                return null;
            }
            queue.add(info.superName);
            queue.addAll(List.of(info.interfaces));
        }
        CodeRule first = null;
        for (String ancestor : jdkAncestors) {
            CodeRule denied = JdkAllowlist.deniedByName(JdkAllowlist.entry(ancestor), ref.name(), ref.desc());
            if (denied != null) {
                return denied.tag;
            }
        }
        if (otherAncestor) {
            return null; // the member may come from the KPI class it extends, which exports it
        }
        for (String ancestor : jdkAncestors) {
            JdkAllowlist.Entry entry = JdkAllowlist.entry(ancestor);
            CodeRule r = entry == null ? JdkAllowlist.category(ancestor, ref.name())
                    : JdkAllowlist.memberRefusal(entry, ref.name(), ref.desc());
            if (r == null) {
                return null;
            }
            first = first == null ? r : first;
        }
        return first == null ? null : first.tag;
    }

    /** The JDK, the kernel and the harness's libraries, for a class that is not the kext's nor the KPI. */
    private String refusal(Kind kind, String owner, String name, String desc) {
        if (isJdk(owner)) {
            CodeRule r = JdkAllowlist.refusal(kind, owner, name, desc);
            return r == null ? null : r.tag;
        }
        if (owner.startsWith(KextCode.HARNESS) && !codeBase.test(owner)) {
            return Rule.KERNEL_PRIVATE.tag;
        }
        if (KextCode.isHarnessLibrary(owner)) {
            return CodeRule.HARNESS.tag;
        }
        return null;
    }

    /** A member whose signature names a refused class is as refused (a KPI method taking a kernel type). */
    private String descriptorRule(Reference ref) {
        if (ref.desc() == null || ref.kind() == Kind.TYPE) {
            return null;
        }
        for (String t : descriptorTypes(ref.desc())) {
            if (own.test(t) || shared.test(t) || t.startsWith(KextCode.KPI)) {
                continue;
            }
            String r = refusal(Kind.TYPE, t, null, null);
            if (r != null) {
                return r;
            }
        }
        return null;
    }

    private boolean isJdk(String owner) {
        return jdk.computeIfAbsent(owner, o -> KextCode.isJdk(o, parent));
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
