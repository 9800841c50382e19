package dev.kextharness.kernel.kext;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * A kext's service as a test holds it: every call into the kext goes through the kernel's
 * {@link Watchdog}, so a service call that spins is stopped, and a call that comes back into a
 * panicked kernel throws the panic even if the kext caught and dropped it. A service object the
 * kext hands back (an interface-typed result defined by the kext) is watched the same way.
 */
final class ServiceCalls implements InvocationHandler {
    private final Watchdog watchdog;
    private final LoadedKext kext;
    private final Class<?> iface;
    private final Object target;

    private ServiceCalls(Watchdog watchdog, LoadedKext kext, Class<?> iface, Object target) {
        this.watchdog = watchdog;
        this.kext = kext;
        this.iface = iface;
        this.target = target;
    }

    /** {@code target}, an object of the kext, seen through {@code iface} with every call watched. */
    static <T> T watched(Watchdog watchdog, LoadedKext kext, Class<T> iface, Object target) {
        ClassLoader loader = iface.getClassLoader() != null ? iface.getClassLoader() : ServiceCalls.class.getClassLoader();
        return iface.cast(Proxy.newProxyInstance(loader, new Class<?>[]{iface},
                new ServiceCalls(watchdog, kext, iface, target)));
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        if (method.getDeclaringClass() == Object.class && method.getName().equals("equals") && args[0] != null
                && Proxy.isProxyClass(args[0].getClass())
                && Proxy.getInvocationHandler(args[0]) instanceof ServiceCalls other) {
            args = new Object[]{other.target}; // two views of one kext object are equal as the object says
        }
        Object[] arguments = args;
        Object result = watchdog.call(kext, "service call " + iface.getSimpleName() + "." + method.getName(),
                () -> invokeTarget(method, arguments));
        if (kext.kernel().panic() != null) {
            throw kext.kernel().panic(); // the kext caught the panic and returned: the kernel is dead all the same
        }
        Class<?> type = method.getReturnType();
        if (result != null && type.isInterface() && result.getClass().getClassLoader() instanceof KextClassLoader) {
            return watched(watchdog, kext, type, result);
        }
        return result;
    }

    private Object invokeTarget(Method method, Object[] args) {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw ServiceCalls.<RuntimeException>rethrow(e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call " + method + " on kext " + kext.bundleId() + ": " + e.getMessage(),
                    e);
        }
    }

    /** Throws what the kext's method threw, checked or not, as the interface declared it. */
    @SuppressWarnings("unchecked")
    private static <T extends Throwable> T rethrow(Throwable t) throws T {
        throw (T) t;
    }
}
