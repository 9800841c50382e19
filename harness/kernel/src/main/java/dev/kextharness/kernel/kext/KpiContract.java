package dev.kextharness.kernel.kext;

import dev.kextharness.kpi.AllocatorFamily;
import dev.kextharness.kpi.IOLib;
import dev.kextharness.kpi.IpcPrivate;
import dev.kextharness.kpi.Kalloc;
import dev.kextharness.kpi.Kpi;
import dev.kextharness.kpi.KpiLibrary;
import dev.kextharness.kpi.Libkern;
import dev.kextharness.kpi.MachPort;
import dev.kextharness.kpi.Malloc;
import dev.kextharness.kpi.Mem;
import dev.kextharness.kpi.OSAtomic;
import dev.kextharness.kpi.OSMalloc;
import dev.kextharness.kpi.Proc;
import dev.kextharness.kpi.Sysctl;
import dev.kextharness.kpi.Systm;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The KPI contract of the simulated Catalina kernel, read once from the {@link Kpi} declarations
 * on the facade's methods: for every KPI function, the library that exports it, its allocator
 * family, whether fault injection may fail it, whether calls to it are bound to the kernel, and
 * the method of the header's implementation ({@link KextKpi}) they are bound to. kextload's
 * routing and binding, the link check's KPI side ({@link KpiLinkCheck}), fault injection, the
 * ledger's families, {@code KextRules} and the documentation's KPI table all read it here.
 *
 * <p>Adding a KPI function is one annotated facade method plus its implementation in the
 * header's {@code *Kpi} class. Immutable and shared by every kernel.
 *
 * <p>Stability: experimental (for the harness's own modules).
 */
public final class KpiContract {

    /** The libraries a kext links against when its {@code @KextBundle} names none: the public four. */
    public static final Set<KpiLibrary> DEFAULT_LIBRARIES =
            Set.copyOf(EnumSet.of(KpiLibrary.BSD, KpiLibrary.LIBKERN, KpiLibrary.MACH, KpiLibrary.IOKIT));

    /**
     * One KPI function, as its facade method declares it.
     *
     * @param id         its index in {@link #functions()}: the linker passes it to the bootstrap
     * @param facade     the facade method kexts call
     * @param owner      the facade class's internal name, such as {@code dev/kextharness/kpi/Malloc}
     * @param descriptor the facade method's descriptor
     * @param library    the library whose export list holds the symbol (or NONE, NOT_EXPORTED)
     * @param symbol     the symbol kxld resolves, such as {@code _kalloc}; null for a macro (NONE)
     * @param family     the allocator family it allocates from or frees to
     * @param failable   whether fault injection may fail it
     * @param bound      whether kextload binds its calls to the kernel that loaded the kext
     */
    public record Function(int id, Method facade, String owner, String descriptor, KpiLibrary library, String symbol,
                           AllocatorFamily family, boolean failable, boolean bound) {

        /** The function's name, as XNU spells it. */
        public String name() {
            return facade.getName();
        }

        /** The facade class's simple name, such as {@code Malloc}. */
        public String header() {
            return facade.getDeclaringClass().getSimpleName();
        }

        /** Whether a kext that links against {@code libraries} may call it. */
        public boolean linkableWith(Collection<KpiLibrary> libraries) {
            return library == KpiLibrary.NONE || (library.isLibrary() && libraries.contains(library));
        }

        /** {@code Malloc._MALLOC(long, int, int)}. */
        public String signature() {
            return header() + "." + name() + Arrays.stream(facade.getParameterTypes()).map(Class::getSimpleName)
                    .collect(Collectors.joining(", ", "(", ")"));
        }
    }

    /** A facade class and the kernel class that implements its bound functions for one kext. */
    private record Header(Class<?> facade, Class<? extends KextKpi> implementation, Factory factory) {
    }

    @FunctionalInterface
    private interface Factory {
        KextKpi create(KextHost kernel, LoadedKext kext, KextMemory memory);
    }

    /** One implementation class per facade class, as XNU has one header per part of the KPI. */
    private static final List<Header> HEADERS = List.of(
            new Header(Malloc.class, MallocKpi.class, MallocKpi::new),
            new Header(OSMalloc.class, OSMallocKpi.class, OSMallocKpi::new),
            new Header(IOLib.class, IOLibKpi.class, IOLibKpi::new),
            new Header(Kalloc.class, KallocKpi.class, KallocKpi::new),
            new Header(Systm.class, SystmKpi.class, SystmKpi::new),
            new Header(Libkern.class, LibkernKpi.class, LibkernKpi::new),
            new Header(Mem.class, MemKpi.class, MemKpi::new),
            new Header(OSAtomic.class, OSAtomicKpi.class, OSAtomicKpi::new),
            new Header(MachPort.class, MachPortKpi.class, MachPortKpi::new),
            new Header(Proc.class, ProcKpi.class, ProcKpi::new),
            new Header(IpcPrivate.class, IpcPrivateKpi.class, IpcPrivateKpi::new),
            new Header(Sysctl.class, SysctlKpi.class, SysctlKpi::new));

    private static final KpiContract CATALINA = new KpiContract();

    private final List<Function> functions;
    /** By {@code owner.name descriptor}: the identity a class file names a method by. */
    private final Map<String, Function> byMember;
    /** By function id: the implementation, taking the header's {@link KextKpi} first; null if none. */
    private final MethodHandle[] implementations;
    /** By function id: the index of its header in {@link #HEADERS}. */
    private final int[] headerOf;

    private KpiContract() {
        List<Function> all = new ArrayList<>();
        List<MethodHandle> handles = new ArrayList<>();
        List<Integer> headers = new ArrayList<>();
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        for (int h = 0; h < HEADERS.size(); h++) {
            Header header = HEADERS.get(h);
            Method[] methods = header.facade().getDeclaredMethods();
            Arrays.sort(methods, Comparator.comparing(Method::getName).thenComparing(KpiContract::descriptor));
            for (Method m : methods) {
                Kpi kpi = m.getAnnotation(Kpi.class);
                if (kpi == null || !Modifier.isPublic(m.getModifiers()) || !Modifier.isStatic(m.getModifiers())) {
                    continue;
                }
                String symbol = kpi.library() == KpiLibrary.NONE ? null
                        : kpi.symbol().isEmpty() ? "_" + m.getName() : kpi.symbol();
                Function f = new Function(all.size(), m, internalName(header.facade()), descriptor(m), kpi.library(),
                        symbol, kpi.family(), kpi.failable(), kpi.bound());
                all.add(f);
                handles.add(f.bound() && f.library() != KpiLibrary.NOT_EXPORTED
                        ? implementation(lookup, header.implementation(), m) : null);
                headers.add(h);
            }
        }
        this.functions = List.copyOf(all);
        Map<String, Function> members = new HashMap<>();
        all.forEach(f -> members.put(f.owner() + "." + f.name() + f.descriptor(), f));
        this.byMember = Map.copyOf(members);
        this.implementations = handles.toArray(new MethodHandle[0]);
        this.headerOf = headers.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The contract of xnu-6153 (macOS 10.15 Catalina), the kernel the harness simulates. */
    public static KpiContract catalina() {
        return CATALINA;
    }

    /** Every declared KPI function, by header then name. */
    public List<Function> functions() {
        return functions;
    }

    /** The function with this id. */
    public Function function(int id) {
        return functions.get(id);
    }

    /** The function a class file names as {@code owner.name descriptor} (owner's internal name); null if none. */
    public Function function(String owner, String name, String descriptor) {
        return byMember.get(owner + "." + name + descriptor);
    }

    /** Whether a static call of {@code owner.name descriptor} is bound to the kernel at link time. */
    public boolean isBound(String owner, String name, String descriptor) {
        Function f = function(owner, name, descriptor);
        return f != null && f.bound();
    }

    /**
     * Whether a kext that links against {@code libraries} may call the static method
     * {@code owner.name descriptor} of the facade (internal names, as a class file has them): true
     * if it is a declared KPI function that one of those libraries exports (or a macro, which needs
     * none) and this kernel implements. False for everything else, a member that is not a KPI
     * function included.
     */
    public boolean mayCall(Collection<KpiLibrary> libraries, String owner, String name, String descriptor) {
        return refusal(libraries, owner, name, descriptor) == null;
    }

    /**
     * Why a kext that links against {@code libraries} may not call {@code owner.name descriptor}, in
     * the link check's words ({@code [needs com.apple.kpi.unsupported] exported by ...}); null if it may.
     */
    public String refusal(Collection<KpiLibrary> libraries, String owner, String name, String descriptor) {
        Function f = function(owner, name, descriptor);
        String tag = f == null ? KpiLinkCheck.Rule.NOT_IN_KPI.tag : KpiLinkCheck.functionTag(this, f, libraries, false);
        return tag == null ? null : "[" + tag + "] " + KpiLinkCheck.explanation(tag);
    }

    /**
     * The contract as a Markdown table, one row per function, for the documentation
     * ({@code src/docs/kpi.md}, which {@code KpiTableTest} keeps equal to this).
     */
    public String markdownTable() {
        StringBuilder out = new StringBuilder()
                .append("| Header | Function | Symbol | Library (OSBundleLibraries) | Family | Fault injection |\n")
                .append("| --- | --- | --- | --- | --- | --- |\n");
        for (Function f : functions) {
            String library = switch (f.library()) {
                case NONE -> "none: a macro, inline or struct field";
                case NOT_EXPORTED -> "**not exported** to kexts";
                default -> "`" + f.library().bundleId() + "` (" + f.library().exportList() + ")";
            };
            out.append("| ").append(f.header())
                    .append(" | `").append(f.signature().substring(f.header().length() + 1)).append('`')
                    .append(f.bound() ? "" : " (computed by the facade)")
                    .append(" | ").append(f.symbol() == null ? "" : "`" + f.symbol() + "`")
                    .append(" | ").append(library)
                    .append(" | ").append(f.family() == AllocatorFamily.NONE ? "" : f.family().name())
                    .append(" | ").append(f.failable() ? "can fail (NULL)" : "")
                    .append(" |\n");
        }
        return out.toString();
    }

    /** The libraries named by these bundle identifiers; unknown ones are left out (see {@link #unknownLibraries}). */
    public static Set<KpiLibrary> libraries(Collection<String> bundleIds) {
        EnumSet<KpiLibrary> out = EnumSet.noneOf(KpiLibrary.class);
        for (String id : bundleIds) {
            KpiLibrary library = KpiLibrary.ofBundleId(id);
            if (library != null) {
                out.add(library);
            }
        }
        return out;
    }

    /** The bundle identifiers among these that name no KPI library of this kernel. */
    public static List<String> unknownLibraries(Collection<String> bundleIds) {
        return bundleIds.stream().filter(id -> KpiLibrary.ofBundleId(id) == null).toList();
    }

    /** Each facade class and the class that implements it, in the contract's order. */
    static Map<Class<?>, Class<? extends KextKpi>> headers() {
        Map<Class<?>, Class<? extends KextKpi>> out = new LinkedHashMap<>();
        HEADERS.forEach(h -> out.put(h.facade(), h.implementation()));
        return out;
    }

    /** Whether the kernel implements a bound function (a test proves every bound, exported one is). */
    boolean implemented(Function f) {
        return implementations[f.id()] != null;
    }

    /** One implementation object per header, for one loaded kext. */
    KextKpi[] implementationsFor(KextHost kernel, LoadedKext kext) {
        KextMemory memory = new KextMemory(kernel);
        KextKpi[] out = new KextKpi[HEADERS.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = HEADERS.get(i).factory().create(kernel, kext, memory);
        }
        return out;
    }

    /**
     * The target of one linked call site: the kext's implementation of {@code f} with the site id
     * appended, behind a fault-injection guard if the function is failable. Built once per call
     * site; the result is a chain of bound method handles the JIT inlines.
     */
    MethodHandle target(Function f, MethodType type, KextKpi[] kpi, KextHost kernel, int site) {
        MethodHandle target = MethodHandles.insertArguments(implementations[f.id()].bindTo(kpi[headerOf[f.id()]]),
                type.parameterCount(), site);
        if (!f.failable()) {
            return target;
        }
        MethodHandle test = MethodHandles.dropArguments(MethodHandles.insertArguments(INJECT_FAULT, 0, kernel, site),
                0, type.parameterList());
        MethodHandle fail = MethodHandles.dropArguments(MethodHandles.zero(type.returnType()), 0, type.parameterList());
        return MethodHandles.guardWithTest(test, fail, target);
    }

    private static final MethodHandle INJECT_FAULT;

    static {
        try {
            INJECT_FAULT = MethodHandles.lookup().findStatic(KpiContract.class, "injectFault",
                    MethodType.methodType(boolean.class, KextHost.class, int.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Before a failable call: refuses a panicked kernel, then asks the fault injector; true means return NULL. */
    private static boolean injectFault(KextHost kernel, int site) {
        kernel.checkAlive();
        return kernel.faults().shouldFail(site);
    }

    private static MethodHandle implementation(MethodHandles.Lookup lookup, Class<?> implementation, Method facade) {
        MethodType type = MethodType.methodType(facade.getReturnType(), facade.getParameterTypes())
                .appendParameterTypes(int.class);
        try {
            return lookup.findVirtual(implementation, facade.getName(), type);
        } catch (NoSuchMethodException | IllegalAccessException e) {
            return null; // the link check refuses it as not implemented; KpiContractTest fails the build
        }
    }

    private static String internalName(Class<?> type) {
        return type.getName().replace('.', '/');
    }

    static String descriptor(Method m) {
        return MethodType.methodType(m.getReturnType(), m.getParameterTypes()).toMethodDescriptorString();
    }
}
