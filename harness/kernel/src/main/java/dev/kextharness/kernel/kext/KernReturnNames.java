package dev.kextharness.kernel.kext;

import dev.kextharness.kpi.KernReturn;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/** The names of {@code kern_return_t} values, read from the KPI's {@link KernReturn}, for messages. */
final class KernReturnNames {
    private static final Map<Integer, String> NAMES = names();

    private KernReturnNames() {
    }

    private static Map<Integer, String> names() {
        Map<Integer, String> out = new HashMap<>();
        for (Field f : KernReturn.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == int.class && !f.getName().equals("KERN_RETURN_MAX")) {
                try {
                    out.putIfAbsent(f.getInt(null), f.getName());
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return Map.copyOf(out);
    }

    /** {@code KERN_FAILURE} for 5; null for a value without a name. */
    static String name(int code) {
        return NAMES.get(code);
    }
}
