package dev.kextharness.junit;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaMethodCall;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.CompositeArchRule;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import dev.kextharness.kpi.Kext;
import dev.kextharness.kpi.KextBundle;

import java.util.Timer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.function.BiPredicate;
import java.util.regex.Pattern;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;

/**
 * ArchUnit rules for kext code, checked at build time rather than at kextload: the same
 * contract the kernel's link step enforces, reported for a whole code base at once. They apply
 * to the classes that implement {@link Kext}.
 *
 * <pre>
 * &#64;AnalyzeClasses(packages = "com.example.kexts")
 * class KextArchitectureTest {
 *     &#64;ArchTest static final ArchRule kexts = KextRules.ALL;
 * }
 * </pre>
 *
 * <p>Stability: experimental.
 */
public final class KextRules {
    private KextRules() {
    }

    private static final Pattern REFLECTIVE =
            Pattern.compile("forName|getDeclared.*|getMethod.*|getField.*|getConstructor.*|getClassLoader");

    /** The kernel reads a kext's identity from {@code @KextBundle} and instantiates it without arguments. */
    public static final ArchRule KEXTS_ARE_BUNDLES = classes()
            .that().implement(Kext.class).and().areNotInterfaces().and().doNotHaveModifier(JavaModifier.ABSTRACT)
            .should().beAnnotatedWith(KextBundle.class)
            .andShould(havePublicNoArgumentConstructor())
            .because("kextload reads the bundle identifier from @KextBundle and calls the public no-argument "
                    + "constructor, as a kext's Info.plist and kmod_info do");

    /**
     * Only the KPI facade is exported to kexts; the simulated kernel's classes are kernel-private.
     * A kext's own package is its own, even under {@code dev.kextharness}.
     */
    public static final ArchRule KEXTS_USE_ONLY_THE_KPI = classes()
            .that().implement(Kext.class)
            .should(useNoClass("use only the KPI of dev.kextharness", (kext, target) ->
                    target.getPackageName().startsWith("dev.kextharness")
                            && !target.getPackageName().startsWith("dev.kextharness.kpi")
                            && !target.getPackageName().equals(kext.getPackageName())))
            .because("the kernel's link step refuses kernel-private symbols: call the KPI function that does the job");

    /** Threads belong to the kernel. */
    public static final ArchRule KEXTS_CREATE_NO_THREADS = classes()
            .that().implement(Kext.class)
            .should(useNoClass("create no threads", (kext, target) -> target.isAssignableTo(Thread.class)
                    || target.isAssignableTo(Executor.class) || target.isAssignableTo(ForkJoinPool.class)
                    || target.isAssignableTo(CompletableFuture.class) || target.isAssignableTo(Timer.class)))
            .because("a kext's work must stay on the kernel's threads and in its ledger; the link step refuses threads");

    /** Reflection would reach past the KPI into the kernel. */
    public static final ArchRule KEXTS_USE_NO_REFLECTION = classes()
            .that().implement(Kext.class)
            .should(useNoClass("use no reflection", (kext, target) ->
                    target.getPackageName().startsWith("java.lang.reflect")
                            || target.getPackageName().startsWith("java.lang.invoke")
                            || target.isAssignableTo(ClassLoader.class)))
            .andShould(callNoReflectiveMethodOfClass())
            .because("reflection and class loading would let a kext reach past the KPI; the link step refuses them");

    /** Every rule above. */
    public static final ArchRule ALL = CompositeArchRule.of(KEXTS_ARE_BUNDLES)
            .and(KEXTS_USE_ONLY_THE_KPI).and(KEXTS_CREATE_NO_THREADS).and(KEXTS_USE_NO_REFLECTION);

    /** A dependency of the kext (array types by their element type) on a class it must not use. */
    private static ArchCondition<JavaClass> useNoClass(String description, BiPredicate<JavaClass, JavaClass> banned) {
        return new ArchCondition<>(description) {
            @Override
            public void check(JavaClass kext, ConditionEvents events) {
                for (Dependency dependency : kext.getDirectDependenciesFromSelf()) {
                    if (banned.test(kext, dependency.getTargetClass().getBaseComponentType())) {
                        events.add(SimpleConditionEvent.violated(dependency, dependency.getDescription()));
                    }
                }
            }
        };
    }

    /** What the link step refuses on java.lang.Class: its reflective lookups and Class.forName. */
    private static ArchCondition<JavaClass> callNoReflectiveMethodOfClass() {
        return new ArchCondition<>("call no reflective method of java.lang.Class") {
            @Override
            public void check(JavaClass kext, ConditionEvents events) {
                for (JavaMethodCall call : kext.getMethodCallsFromSelf()) {
                    if (call.getTargetOwner().isEquivalentTo(Class.class) && REFLECTIVE.matcher(call.getName()).matches()) {
                        events.add(SimpleConditionEvent.violated(call, call.getDescription()));
                    }
                }
            }
        };
    }

    private static ArchCondition<JavaClass> havePublicNoArgumentConstructor() {
        return new ArchCondition<>("have a public no-argument constructor") {
            @Override
            public void check(JavaClass kext, ConditionEvents events) {
                boolean ok = kext.getConstructors().stream().anyMatch(c -> c.getRawParameterTypes().isEmpty()
                        && c.getModifiers().contains(JavaModifier.PUBLIC));
                if (!ok) {
                    events.add(SimpleConditionEvent.violated(kext, kext.getName()
                            + " has no public no-argument constructor"));
                }
            }
        };
    }
}
