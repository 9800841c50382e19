package dev.kextharness.kernel.ipc;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_PORT_SET;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND_ONCE;

/**
 * The port rights a kext's own code holds: for every name a kext's call changed, what that call
 * added or released, right by right, with the call site that first took it. Rights are counted in
 * the currency XNU counts them in (user references for send rights and dead names, one for a
 * receive right, a send-once right or a port set), so a kext's balance is exact, like its memory.
 */
public final class KextPortRights {

    /** What one kext holds under one name, and where it took it. */
    static final class Holding {
        final Task task;
        final int name;
        final int site;
        Object object;
        long send;
        long dead;
        long receive;
        long sendOnce;
        long portSet;

        Holding(Task task, int name, int site) {
            this.task = task;
            this.name = name;
            this.site = site;
        }
    }

    /**
     * A right a kext still holds.
     *
     * @param site  the call site that took it
     * @param task  the task whose space holds it
     * @param name  its name there
     * @param right {@code send}, {@code receive}, {@code send-once}, {@code port set} or {@code dead name}
     * @param urefs user references held (1 for rights that have none)
     */
    public record Held(int site, Task task, int name, String right, long urefs) {
    }

    private final Map<Integer, Map<String, Holding>> byKext = new HashMap<>();

    /** Records what a kext call at {@code site} did to a name: {@code before} and {@code after} are its ie_bits. */
    public synchronized void changed(int loadTag, int site, Task task, int name, int before, int after, Object object) {
        if (before == after || name == 0 || name == -1) {
            return;
        }
        Holding h = byKext.computeIfAbsent(loadTag, k -> new LinkedHashMap<>())
                .computeIfAbsent(task.pid() + ":" + name, k -> new Holding(task, name, site));
        if (object != null) {
            h.object = object;
        }
        h.send = Math.max(0, h.send + sendUrefs(after) - sendUrefs(before));
        h.dead = Math.max(0, h.dead + deadUrefs(after) - deadUrefs(before));
        h.receive = Math.max(0, h.receive + bit(after, MACH_PORT_TYPE_RECEIVE) - bit(before, MACH_PORT_TYPE_RECEIVE));
        h.sendOnce = Math.max(0, h.sendOnce + bit(after, MACH_PORT_TYPE_SEND_ONCE) - bit(before, MACH_PORT_TYPE_SEND_ONCE));
        h.portSet = Math.max(0, h.portSet + bit(after, MACH_PORT_TYPE_PORT_SET) - bit(before, MACH_PORT_TYPE_PORT_SET));
    }

    /**
     * The rights the kext still holds, as far as the spaces still show them: a name that has since
     * been freed, or reused for another object, counts for nothing; a send right whose port died
     * counts as the dead name it became.
     */
    public synchronized List<Held> outstanding(int loadTag, Ipc ipc) {
        List<Held> out = new ArrayList<>();
        Map<String, Holding> holdings = byKext.getOrDefault(loadTag, Map.of());
        for (Holding h : holdings.values()) {
            if (!h.task.isAlive()) {
                continue;
            }
            int bits = ipc.bitsOf(h.task.space(), h.name);
            Object now = ipc.objectOf(h.task.space(), h.name);
            boolean same = now == h.object;
            add(out, h, "receive", same ? Math.min(h.receive, bit(bits, MACH_PORT_TYPE_RECEIVE)) : 0);
            add(out, h, "send", same ? Math.min(h.send, sendUrefs(bits)) : 0);
            add(out, h, "send-once", same ? Math.min(h.sendOnce, bit(bits, MACH_PORT_TYPE_SEND_ONCE)) : 0);
            add(out, h, "port set", same ? Math.min(h.portSet, bit(bits, MACH_PORT_TYPE_PORT_SET)) : 0);
            add(out, h, "dead name", Math.min(h.dead + h.send + h.sendOnce, deadUrefs(bits)));
        }
        return out;
    }

    /** Forgets a kext's holdings (after its verdict). */
    public synchronized void forget(int loadTag) {
        byKext.remove(loadTag);
    }

    private static void add(List<Held> out, Holding h, String right, long n) {
        if (n > 0) {
            out.add(new Held(h.site, h.task, h.name, right, n));
        }
    }

    private static long sendUrefs(int bits) {
        return (bits & MACH_PORT_TYPE_SEND) != 0 ? bits & IpcSpace.IE_BITS_UREFS_MASK : 0;
    }

    private static long deadUrefs(int bits) {
        return (bits & IpcSpace.IE_BITS_TYPE_MASK) == MACH_PORT_TYPE_DEAD_NAME ? bits & IpcSpace.IE_BITS_UREFS_MASK : 0;
    }

    private static long bit(int bits, int type) {
        return (bits & type) != 0 ? 1 : 0;
    }
}
