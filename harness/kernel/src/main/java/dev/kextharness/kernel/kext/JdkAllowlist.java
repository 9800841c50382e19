package dev.kextharness.kernel.kext;

import dev.kextharness.kernel.kext.ClassInfo.Kind;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What of the JDK kext code may use: an allowlist, class by class and where it matters member by
 * member. Everything not on it fails the link, tagged with the {@link CodeRule} that explains why
 * (I/O, console, threads, reflection, JVM-wide, or simply not allowlisted). The list is the
 * contract for every class a kext can run, the code it shares with its test included; the docs page
 * {@code src/docs/kext-code.md} prints it ({@link #markdown()}, kept equal by a test).
 *
 * <p>The rule of thumb: pure computation on values the kext owns is allowed; anything that acts
 * outside the kext's own objects (the console, files, the JVM, other threads, other classes'
 * internals) is not, because a kext's only way out is the KPI.
 */
final class JdkAllowlist {

    /**
     * One allowlisted class (or package, {@code java.util.function.*}).
     *
     * @param name     binary name, or a package followed by {@code .*}
     * @param members  the only members allowed, or null for every public member
     * @param unlisted the rule a member outside {@code members} breaks
     * @param denied   members refused although the class is allowed: a name, or a name and the start
     *                 of its descriptor ({@code forEach(J}), with the rule each breaks
     */
    record Entry(String name, Set<String> members, CodeRule unlisted, Map<String, CodeRule> denied) {
        static Entry all(String name) {
            return new Entry(name, null, null, Map.of());
        }

        static Entry allBut(String name, CodeRule rule, String... denied) {
            Map<String, CodeRule> d = new LinkedHashMap<>();
            for (String each : denied) {
                d.put(each, rule);
            }
            return new Entry(name, null, null, Map.copyOf(d));
        }

        static Entry only(String name, CodeRule unlisted, String... members) {
            return new Entry(name, Set.of(members), unlisted, Map.of());
        }

        boolean isPackage() {
            return name.endsWith(".*");
        }
    }

    /** A group of entries with the reason they are allowed, as the docs page shows them. */
    record Group(String title, String why, List<Entry> entries) {
    }

    /** Refused on every JDK class, whatever its entry: how threads and the console hide in allowed types. */
    static final Map<String, CodeRule> DENIED_EVERYWHERE = denied(
            CodeRule.THREAD, "parallel", "parallelStream", "parallelSort", "parallelPrefix", "parallelSetAll",
            "parallelMultiply", "wait", "notify", "notifyAll", "finalize",
            CodeRule.CONSOLE, "printStackTrace");

    private static final String[] BOXES = {"java.lang.Boolean", "java.lang.Byte", "java.lang.Short",
            "java.lang.Integer", "java.lang.Long", "java.lang.Float", "java.lang.Double", "java.lang.Character"};

    static final List<Group> GROUPS = groups();

    private static List<Group> groups() {
        List<Group> g = new ArrayList<>();
        List<Entry> lang = new ArrayList<>(List.of(
                Entry.only("java.lang.Object", CodeRule.THREAD, "<init>", "getClass", "hashCode", "equals", "toString",
                        "clone"),
                Entry.all("java.lang.String"), Entry.all("java.lang.StringBuilder"), Entry.all("java.lang.StringBuffer"),
                Entry.all("java.lang.CharSequence"), Entry.all("java.lang.Number"), Entry.all("java.lang.Math"),
                Entry.all("java.lang.StrictMath"), Entry.all("java.lang.Void"), Entry.all("java.lang.Enum"),
                Entry.all("java.lang.Record"), Entry.all("java.lang.Comparable"), Entry.all("java.lang.Iterable"),
                Entry.all("java.lang.AutoCloseable"), Entry.all("java.lang.Cloneable"), Entry.all("java.lang.Runnable"),
                Entry.all("java.lang.Appendable"), Entry.all("java.lang.StackTraceElement"),
                Entry.all("java.lang.Override"), Entry.all("java.lang.Deprecated"),
                Entry.all("java.lang.FunctionalInterface"), Entry.all("java.lang.SafeVarargs"),
                Entry.all("java.lang.SuppressWarnings"), Entry.all("java.lang.annotation.*"),
                Entry.all("java.io.Serializable")));
        for (String box : BOXES) {
            // Boolean.getBoolean, Integer.getInteger and Long.getLong read system properties.
            lang.add(Set.of("java.lang.Boolean", "java.lang.Integer", "java.lang.Long").contains(box)
                    ? Entry.allBut(box, CodeRule.JVM_GLOBAL, "getInteger", "getLong", "getBoolean") : Entry.all(box));
        }
        lang.add(Entry.only("java.lang.Class", CodeRule.REFLECTION, "getName", "getSimpleName", "getTypeName",
                "getCanonicalName", "getPackageName", "isInstance", "cast", "isArray", "isPrimitive", "isInterface",
                "isEnum", "isRecord", "isAnnotation", "isAssignableFrom", "desiredAssertionStatus", "getComponentType",
                "componentType", "arrayType", "toString", "hashCode", "equals"));
        lang.add(Entry.only("java.lang.System", CodeRule.JVM_GLOBAL, "arraycopy", "identityHashCode", "nanoTime",
                "currentTimeMillis", "lineSeparator"));
        g.add(new Group("java.lang basics", "values, strings, boxes, math, enums and records, the interfaces javac's own "
                + "code uses; Object and Class only for what does not reach past the object (no wait/notify, no "
                + "reflection); System only for arraycopy, identityHashCode, the clocks and lineSeparator", lang));

        g.add(new Group("Exceptions", "every public Throwable of java.lang and java.util (such as IllegalStateException, "
                + "NoSuchElementException, IllegalFormatException), to throw and catch; printStackTrace writes to the "
                + "console and is refused", List.of(Entry.all("java.lang.* (Throwables)"),
                Entry.all("java.util.* (Throwables)"))));

        List<Entry> collections = new ArrayList<>();
        for (String c : List.of("Collection", "List", "Set", "Map", "SortedMap", "SortedSet", "NavigableMap",
                "NavigableSet", "SequencedCollection", "SequencedSet", "SequencedMap", "Queue", "Deque", "RandomAccess",
                "Iterator", "ListIterator", "PrimitiveIterator", "Spliterator", "Spliterators", "Comparator",
                "AbstractCollection", "AbstractList", "AbstractSequentialList", "AbstractSet", "AbstractMap",
                "AbstractQueue", "ArrayList", "LinkedList", "ArrayDeque", "PriorityQueue", "HashMap", "LinkedHashMap",
                "TreeMap", "IdentityHashMap", "EnumMap", "HashSet", "LinkedHashSet", "TreeSet", "EnumSet", "BitSet",
                "Collections", "Arrays", "Objects", "Optional", "OptionalInt", "OptionalLong", "OptionalDouble",
                "StringJoiner", "Random", "SplittableRandom", "HexFormat", "Base64", "IntSummaryStatistics",
                "LongSummaryStatistics", "DoubleSummaryStatistics")) {
            collections.add(Entry.all("java.util." + c));
        }
        collections.add(Entry.allBut("java.util.Locale", CodeRule.JVM_GLOBAL, "setDefault"));
        g.add(new Group("Collections and utilities", "java.util's collections, Arrays, Collections, Objects, Optional, "
                + "Random, Locale (for String.format; not setDefault)", collections));

        g.add(new Group("Functional interfaces and sequential streams", "lambdas and streams run on the caller's "
                + "thread; parallel() and parallelStream() are refused everywhere, and StreamSupport is left out "
                + "because its parallel flag is a run-time value", List.of(Entry.all("java.util.function.*"),
                Entry.all("java.util.stream.Stream"), Entry.all("java.util.stream.IntStream"),
                Entry.all("java.util.stream.LongStream"), Entry.all("java.util.stream.DoubleStream"),
                Entry.all("java.util.stream.BaseStream"), Entry.all("java.util.stream.Collectors"),
                Entry.all("java.util.stream.Collector"))));

        List<Entry> concurrent = new ArrayList<>(List.of(
                // forEach, search and reduce with a leading long parallelismThreshold run on the common pool.
                Entry.allBut("java.util.concurrent.ConcurrentHashMap", CodeRule.THREAD, "forEach(J", "forEachKey(J",
                        "forEachValue(J", "forEachEntry(J", "search(J", "searchKeys(J", "searchValues(J",
                        "searchEntries(J", "reduce(J", "reduceKeys(J", "reduceValues(J", "reduceEntries(J",
                        "reduceToLong(J", "reduceToInt(J", "reduceToDouble(J", "reduceKeysToLong(J",
                        "reduceKeysToInt(J", "reduceKeysToDouble(J", "reduceValuesToLong(J", "reduceValuesToInt(J",
                        "reduceValuesToDouble(J", "reduceEntriesToLong(J", "reduceEntriesToInt(J",
                        "reduceEntriesToDouble(J")));
        for (String c : List.of("ConcurrentMap", "ConcurrentNavigableMap", "ConcurrentSkipListMap",
                "ConcurrentSkipListSet", "ConcurrentLinkedQueue", "ConcurrentLinkedDeque", "CopyOnWriteArrayList",
                "CopyOnWriteArraySet")) {
            concurrent.add(Entry.all("java.util.concurrent." + c));
        }
        concurrent.add(Entry.all("java.util.concurrent.atomic.*"));
        g.add(new Group("Thread-safe data structures and atomics", "non-blocking collections and atomics, for kexts "
                + "whose services the kernel calls from several threads; nothing that starts, blocks or parks a "
                + "thread (no executors, locks, queues that wait, TimeUnit.sleep)", concurrent));

        g.add(new Group("Numbers and text", "arbitrary precision arithmetic and charsets by constant (Charset.forName "
                + "and named-charset overloads would load providers from the class path)", List.of(
                Entry.all("java.math.BigInteger"), Entry.all("java.math.BigDecimal"), Entry.all("java.math.MathContext"),
                Entry.all("java.math.RoundingMode"), Entry.all("java.nio.charset.StandardCharsets"),
                Entry.allBut("java.nio.charset.Charset", CodeRule.REFLECTION, "forName", "availableCharsets",
                        "isSupported"))));
        return List.copyOf(g);
    }

    /** Entries by internal name (packages as {@code java/util/function/}). */
    private static final Map<String, Entry> BY_NAME = index();
    private static final Map<String, Boolean> THROWABLE = new ConcurrentHashMap<>();

    private JdkAllowlist() {
    }

    private static Map<String, CodeRule> denied(Object... rulesAndNames) {
        Map<String, CodeRule> out = new LinkedHashMap<>();
        CodeRule rule = null;
        for (Object o : rulesAndNames) {
            if (o instanceof CodeRule r) {
                rule = r;
            } else {
                out.put((String) o, rule);
            }
        }
        return Map.copyOf(out);
    }

    private static Map<String, Entry> index() {
        Map<String, Entry> out = new LinkedHashMap<>();
        for (Group group : GROUPS) {
            for (Entry e : group.entries()) {
                if (e.name().contains(" (")) {
                    continue; // the Throwable rule, decided by type
                }
                String key = e.isPackage() ? e.name().substring(0, e.name().length() - 1) : e.name();
                out.put(key.replace('.', '/'), e);
            }
        }
        return Map.copyOf(out);
    }

    /** The entry that allows the class (internal name), or null if kext code may not name it. */
    static Entry entry(String owner) {
        Entry e = BY_NAME.get(owner);
        if (e != null) {
            return e;
        }
        int slash = owner.lastIndexOf('/');
        Entry pkg = BY_NAME.get(owner.substring(0, slash + 1));
        if (pkg != null) {
            return pkg;
        }
        int dollar = owner.indexOf('$');
        if (dollar > 0) {
            // A nested class of a class allowed whole (Map.Entry, Spliterator.OfInt, ConcurrentHashMap.KeySetView).
            Entry outer = BY_NAME.get(owner.substring(0, dollar));
            if (outer != null && outer.members() == null) {
                return outer;
            }
        }
        String pkgName = owner.substring(0, slash + 1);
        if ((pkgName.equals("java/lang/") || pkgName.equals("java/util/")) && isThrowable(owner)) {
            return Entry.all(KextSource.binaryName(owner));
        }
        return null;
    }

    private static boolean isThrowable(String owner) {
        return THROWABLE.computeIfAbsent(owner, o -> {
            try {
                return Throwable.class.isAssignableFrom(Class.forName(KextSource.binaryName(o), false, null));
            } catch (ClassNotFoundException | LinkageError e) {
                return false;
            }
        });
    }

    /**
     * Why kext code may not use this JDK symbol, or null if it may. A member is refused if its class
     * is not allowlisted, if it is refused by name, or if its descriptor names a class that is not.
     */
    static CodeRule refusal(Kind kind, String owner, String name, String desc) {
        Entry entry = entry(owner);
        if (entry == null) {
            return category(owner, name);
        }
        if (kind == Kind.TYPE) {
            return null;
        }
        CodeRule denied = memberRefusal(entry, name, desc);
        if (denied != null) {
            return denied;
        }
        return descriptorRefusal(desc);
    }

    /** The rule refusing this member by name on this class (or on every class), or null. */
    static CodeRule deniedByName(Entry entry, String name, String desc) {
        String member = name + desc;
        for (Map<String, CodeRule> denied : List.of(DENIED_EVERYWHERE, entry == null ? Map.<String, CodeRule>of()
                : entry.denied())) {
            for (Map.Entry<String, CodeRule> d : denied.entrySet()) {
                String pattern = d.getKey();
                if (pattern.indexOf('(') >= 0 ? member.startsWith(pattern) : pattern.equals(name)) {
                    return d.getValue();
                }
            }
        }
        return null;
    }

    /** The member check alone, without the descriptor's classes. */
    static CodeRule memberRefusal(Entry entry, String name, String desc) {
        CodeRule denied = deniedByName(entry, name, desc);
        if (denied != null) {
            return denied;
        }
        if (entry.members() != null && !entry.members().contains(name)) {
            if (entry.name().equals("java.lang.System") && Set.of("out", "err", "in", "console").contains(name)) {
                return CodeRule.CONSOLE;
            }
            return entry.unlisted();
        }
        return null;
    }

    /** A JDK class named in a member's descriptor must be allowlisted too (Throwable.printStackTrace(PrintStream)). */
    static CodeRule descriptorRefusal(String desc) {
        if (desc == null) {
            return null;
        }
        for (String t : LinkChecker.descriptorTypes(desc)) {
            if (t.startsWith("java/") && entry(t) == null) {
                return category(t, null);
            }
        }
        return null;
    }

    /** Why a class off the list is refused: the most telling rule, else just "not on the allowlist". */
    static CodeRule category(String owner, String member) {
        if (owner.startsWith("java/io/") || owner.startsWith("java/nio/") || owner.startsWith("java/net/")
                || owner.startsWith("java/sql/") || owner.startsWith("javax/sql/") || owner.startsWith("java/util/zip/")
                || owner.startsWith("java/util/jar/") || owner.startsWith("java/util/logging/")
                || owner.startsWith("java/util/prefs/") || owner.equals("java/util/Scanner")
                || owner.equals("java/util/Properties") || owner.equals("java/util/Formatter")
                || owner.startsWith("java/lang/System$Logger") || owner.startsWith("java/awt/")
                || owner.startsWith("javax/swing/") || owner.startsWith("java/rmi/")) {
            return CodeRule.IO;
        }
        if (owner.startsWith("java/lang/Thread") || owner.equals("java/lang/ThreadGroup")
                || owner.equals("java/lang/InheritableThreadLocal") || owner.startsWith("java/lang/ref/")
                || owner.startsWith("java/util/concurrent/") || owner.startsWith("java/util/Timer")
                || owner.equals("java/util/stream/StreamSupport")) {
            return CodeRule.THREAD;
        }
        if (owner.startsWith("java/lang/reflect/") || owner.startsWith("java/lang/invoke/")
                || owner.startsWith("java/lang/instrument/") || owner.startsWith("java/lang/runtime/")
                || owner.startsWith("java/lang/constant/") || owner.startsWith("java/beans/")
                || owner.startsWith("java/lang/Module") || owner.equals("java/lang/StackWalker")
                || owner.endsWith("ClassLoader") || owner.equals("java/util/ServiceLoader")
                || owner.startsWith("java/util/ResourceBundle") || owner.startsWith("sun/") || owner.startsWith("jdk/")
                || owner.startsWith("com/sun/") || owner.startsWith("javax/script/") || owner.startsWith("javax/tools/")
                || owner.startsWith("javax/lang/model/") || owner.startsWith("java/security/")) {
            return CodeRule.REFLECTION;
        }
        if (owner.equals("java/lang/Runtime") || owner.startsWith("java/lang/Runtime$")
                || owner.startsWith("java/lang/Process") || owner.startsWith("java/lang/management/")
                || owner.startsWith("javax/management/") || owner.equals("java/lang/SecurityManager")
                || owner.equals("java/lang/Shutdown") || owner.equals("java/util/TimeZone")) {
            return CodeRule.JVM_GLOBAL;
        }
        return CodeRule.NOT_ALLOWLISTED;
    }

    /** The allowlist as the docs page shows it: a section per group, a line per class. */
    static String markdown() {
        StringBuilder out = new StringBuilder();
        for (Group group : GROUPS) {
            out.append("#### ").append(group.title()).append("\n\n").append(Character.toUpperCase(group.why().charAt(0)))
                    .append(group.why().substring(1)).append(".\n\n");
            for (Entry e : group.entries()) {
                out.append("- `").append(e.name()).append('`');
                if (e.members() != null) {
                    out.append(": only ").append(code(e.members().stream().sorted().toList()));
                } else if (!e.denied().isEmpty()) {
                    out.append(": all but ").append(code(e.denied().keySet().stream().sorted()
                            .map(d -> d.endsWith("(J") ? d.substring(0, d.length() - 2) + "(long, ...)" : d).toList()));
                }
                out.append('\n');
            }
            out.append('\n');
        }
        out.append("Refused on every class, whatever its entry: ")
                .append(code(DENIED_EVERYWHERE.keySet().stream().sorted().toList())).append(".\n");
        return out.toString();
    }

    private static String code(List<String> names) {
        return String.join(", ", names.stream().map(n -> "`" + n + "`").toList());
    }
}
