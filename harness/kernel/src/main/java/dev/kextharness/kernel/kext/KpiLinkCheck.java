package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kext.ClassInfo.Kind;
import dev.kextharness.kernel.kext.ClassInfo.Reference;
import dev.kextharness.kpi.KpiLibrary;
import net.bytebuddy.jar.asm.Type;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The link check's KPI side: a reference to the facade ({@code dev.kextharness.kpi}) resolves if
 * the facade has the member and, for a KPI function, if one of the kext's libraries exports it
 * ({@link KpiContract}), as kxld resolves a kext's undefined symbols only against the export
 * lists of the libraries its {@code OSBundleLibraries} names. An unresolved KPI function is
 * printed as kxld prints it, by its C symbol ({@code _kalloc_noblock}).
 */
final class KpiLinkCheck {

    /** Why a reference to the facade does not resolve; the tag shows on each line, the explanation once. */
    enum Rule {
        NOT_IN_KPI("not in KPI", "the KPI facade (dev.kextharness.kpi) has no such member: it exports what XNU exports, "
                + "with XNU's names and argument types. Check the spelling and types against the facade, and compile "
                + "against the same kext-harness-kpi version the kernel runs."),
        NOT_EXPORTED("not exported", "xnu-6153 exports this function to no kext: it is in none of Catalina's export "
                + "lists (config/*.exports), so kxld cannot resolve it whatever the kext's libraries. Use an exported "
                + "function instead (kalloc or _MALLOC(..., M_NOWAIT) for kalloc_noblock); the mach_port_* calls are "
                + "user space's (MIG) and kernel-private, so a kext has none."),
        NOT_IMPLEMENTED("not implemented", "the facade declares this KPI function but this kernel does not implement "
                + "it (a harness bug: please report it)."),
        KPI_REFERENCE("KPI method reference", "a method reference to a KPI function (such as Malloc::_MALLOC) cannot be "
                + "linked to a call site. Call the function inside a lambda instead: size -> _MALLOC(size, M_TEMP, M_WAITOK).");

        final String tag;
        final String explanation;

        Rule(String tag, String explanation) {
            this.tag = tag;
            this.explanation = explanation;
        }
    }

    /** The tag of a function exported by a library the kext does not name: {@code needs com.apple.kpi.unsupported}. */
    private static final String NEEDS = "needs ";

    /** Public members of each facade class, as name+descriptor (fields as name:descriptor). */
    private static final ClassValue<Set<String>> FACADE_MEMBERS = new ClassValue<>() {
        @Override
        protected Set<String> computeValue(Class<?> type) {
            Set<String> members = new HashSet<>();
            List<Method> methods = new ArrayList<>(List.of(type.getMethods()));
            if (type.isInterface()) {
                methods.addAll(List.of(Object.class.getMethods()));
            }
            for (Method m : methods) {
                members.add(m.getName() + Type.getMethodDescriptor(m));
            }
            for (Constructor<?> c : type.getConstructors()) {
                members.add("<init>" + Type.getConstructorDescriptor(c));
            }
            for (Field f : type.getFields()) {
                members.add(f.getName() + ":" + Type.getDescriptor(f.getType()));
            }
            return Set.copyOf(members);
        }
    };

    private final KpiContract contract = KpiContract.catalina();
    private final Set<KpiLibrary> libraries;
    private final ClassLoader parent;
    private final Map<String, Class<?>> facadeClasses = new HashMap<>();

    /**
     * @param libraries the KPI libraries the kext links against
     * @param parent    the loader the facade resolves through
     */
    KpiLinkCheck(Collection<KpiLibrary> libraries, ClassLoader parent) {
        this.libraries = Set.copyOf(libraries);
        this.parent = parent;
    }

    /** Whether a class file's owner names a facade class (or anything in the facade's package). */
    static boolean isFacade(String owner) {
        return owner.startsWith("dev/kextharness/kpi/");
    }

    /** The tag of the rule a reference to the facade breaks, or null if it resolves. */
    String check(Reference ref) {
        Class<?> type = facadeClass(ref.owner());
        if (type == null) {
            return Rule.NOT_IN_KPI.tag;
        }
        if (ref.kind() == Kind.TYPE) {
            return null;
        }
        String member = ref.kind() == Kind.FIELD ? ref.name() + ":" + ref.desc() : ref.name() + ref.desc();
        if (!FACADE_MEMBERS.get(type).contains(member)) {
            return Rule.NOT_IN_KPI.tag;
        }
        KpiContract.Function f = ref.kind() == Kind.FIELD || !ref.isStatic() ? null
                : contract.function(ref.owner(), ref.name(), ref.desc());
        if (f == null) {
            return null;
        }
        return functionTag(contract, f, libraries, ref.kind() == Kind.HANDLE);
    }

    /** The tag of the rule a use of KPI function {@code f} breaks in a kext with these libraries, or null. */
    static String functionTag(KpiContract contract, KpiContract.Function f, Collection<KpiLibrary> libraries,
                              boolean methodReference) {
        if (f.library() == KpiLibrary.NOT_EXPORTED) {
            return Rule.NOT_EXPORTED.tag;
        }
        if (!f.linkableWith(libraries)) {
            return NEEDS + f.library().bundleId();
        }
        if (f.bound() && methodReference) {
            return Rule.KPI_REFERENCE.tag;
        }
        if (f.bound() && !contract.implemented(f)) {
            return Rule.NOT_IMPLEMENTED.tag;
        }
        return null;
    }

    /**
     * The symbol as kxld prints it: a call's KPI function by its C symbol ({@code _kalloc_noblock});
     * null for anything else (a method reference, a field, a class), which the caller names in its Java form.
     */
    String symbol(Reference ref) {
        KpiContract.Function f = ref.kind() == Kind.METHOD ? contract.function(ref.owner(), ref.name(), ref.desc()) : null;
        return f == null || f.symbol() == null ? null : f.symbol();
    }

    /** The explanation of a tag this check gives, or null if it is not one of its own. */
    static String explanation(String tag) {
        for (Rule r : Rule.values()) {
            if (r.tag.equals(tag)) {
                return r.explanation;
            }
        }
        if (tag.startsWith(NEEDS)) {
            KpiLibrary library = KpiLibrary.ofBundleId(tag.substring(NEEDS.length()));
            if (library != null) {
                return "exported by " + library.bundleId() + " (" + library.exportList() + ".exports in xnu-6153), "
                        + "which the kext does not link against. Name it in @KextBundle(libraries = {...}) as "
                        + "OSBundleLibraries would; a kext that names none links against the public four ("
                        + "com.apple.kpi.bsd, com.apple.kpi.libkern, com.apple.kpi.mach, com.apple.kpi.iokit)"
                        + (library == KpiLibrary.UNSUPPORTED
                        ? ", and com.apple.kpi.unsupported is only for a kext that names it (not for shipping kexts)."
                        : ".");
            }
        }
        return null;
    }

    private Class<?> facadeClass(String owner) {
        return facadeClasses.computeIfAbsent(owner, o -> {
            try {
                return Class.forName(KextSource.binaryName(o), false, parent);
            } catch (ClassNotFoundException | LinkageError e) {
                return null;
            }
        });
    }
}
