package dev.kextharness.kernel.soak;

import dev.kextharness.kernel.kext.LoadedKext;

import java.lang.invoke.CallSite;
import java.lang.invoke.LambdaMetafactory;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Binds a soak to a kext's batch request method: {@code handle(int requests)} on an interface the
 * kext implements and shares with its caller (the slowleak sample's {@code RequestService}). The
 * binding is an {@link IntConsumer} made by {@link LambdaMetafactory}, so that the JIT can inline
 * the call: millions of batches cost no more than the requests themselves.
 */
final class RequestDriver {
    static final String METHOD = "handle";

    private RequestDriver() {
    }

    /** The request method of a loaded kext, or an {@link IllegalArgumentException} saying what is missing. */
    static IntConsumer bind(LoadedKext kext, Class<?> kextClass) {
        Method method = find(kextClass);
        Class<?> iface = method.getDeclaringClass();
        Object service = kext.service(iface);
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        try {
            MethodHandle handle = lookup.findVirtual(iface, METHOD, MethodType.methodType(method.getReturnType(), int.class));
            try {
                CallSite site = LambdaMetafactory.metafactory(lookup, "accept", MethodType.methodType(IntConsumer.class, iface),
                        MethodType.methodType(void.class, int.class), handle, MethodType.methodType(void.class, int.class));
                return (IntConsumer) site.getTarget().invoke(service);
            } catch (Throwable notVisible) {
                // An interface from a loader the harness cannot see (a kext jar): call through the handle.
                MethodHandle bound = handle.bindTo(service).asType(MethodType.methodType(void.class, int.class));
                return requests -> invoke(bound, requests);
            }
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("cannot call " + iface.getName() + "." + METHOD + "(int) on kext "
                    + kext.bundleId() + ": " + e.getMessage(), e);
        }
    }

    private static void invoke(MethodHandle bound, int requests) {
        try {
            bound.invokeExact(requests);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first {@code handle(int)} declared by an interface the kext class implements. */
    static Method find(Class<?> kextClass) {
        Set<Class<?>> interfaces = new LinkedHashSet<>();
        for (Class<?> c = kextClass; c != null; c = c.getSuperclass()) {
            Deque<Class<?>> todo = new ArrayDeque<>(java.util.List.of(c.getInterfaces()));
            while (!todo.isEmpty()) {
                Class<?> i = todo.pop();
                if (interfaces.add(i)) {
                    todo.addAll(java.util.List.of(i.getInterfaces()));
                }
            }
        }
        for (Class<?> i : interfaces) {
            if (!Modifier.isPublic(i.getModifiers())) {
                continue;
            }
            for (Method m : i.getMethods()) {
                if (m.getName().equals(METHOD) && m.getParameterCount() == 1 && m.getParameterTypes()[0] == int.class
                        && !Modifier.isStatic(m.getModifiers())) {
                    return m;
                }
            }
        }
        throw new IllegalArgumentException("kext class " + kextClass.getName() + " has no request method to soak: "
                + "it must implement a public interface that declares handle(int requests), as the slowleak sample's "
                + "RequestService does");
    }
}
