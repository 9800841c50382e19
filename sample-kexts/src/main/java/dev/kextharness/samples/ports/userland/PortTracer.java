package dev.kextharness.samples.ports.userland;

import dev.kextharness.kernel.user.UserProcess;
import dev.kextharness.samples.ports.PortInspectorKext;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_DEAD_NAME;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_RECEIVE;
import static dev.kextharness.kpi.MachPort.MACH_PORT_TYPE_SEND;

/**
 * The article's {@code port_tracer} (a user program, not a kext): for every process it asks the
 * port-inspector kext's {@code debug.port_tracer} sysctl for the message-queue address of each
 * port name (size first, then data), and finds which processes hold ports whose queue the target
 * also holds. Without the article's excluding {@code if}, the target itself is listed too, with the
 * ports nobody else holds: that is where the leak shows.
 */
public final class PortTracer {

    /** One port name of a process, from the kext's record. */
    public record Entry(int name, int type, long mqueue) {
    }

    /** What one process shares with the target. */
    public record Sharing(int pid, String process, int shared) {
    }

    /**
     * @param targetPid  the process traced
     * @param target     its name
     * @param names      its port names
     * @param send       names with a send right
     * @param receive    names with a receive right
     * @param deadNames  dead names
     * @param alone      its ports (or dead names) that no other process holds
     * @param sharing    other processes holding at least one of its ports, most shared first
     */
    public record Report(int targetPid, String target, int names, int send, int receive, int deadNames, int alone,
                         List<Sharing> sharing) {

        /** The report as port_tracer prints it. */
        public String render() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("port_tracer: %s [%d]: %d port names (%d send, %d receive, %d dead names)%n",
                    target, targetPid, names, send, receive, deadNames));
            for (Sharing s : sharing) {
                sb.append(String.format("  %-24s [%5d] shares %d port%s%n", s.process(), s.pid(), s.shared(),
                        s.shared() == 1 ? "" : "s"));
            }
            sb.append(String.format("  %-24s [%5d] holds %d port%s no other process holds%n", target, targetPid, alone,
                    alone == 1 ? "" : "s"));
            return sb.toString().replace("\r\n", "\n");
        }
    }

    private final UserProcess self;
    private final int[] mib;

    private PortTracer(UserProcess self, int[] mib) {
        this.self = self;
        this.mib = mib;
    }

    /**
     * Finds {@code debug.port_tracer} with {@code sysctlnametomib}, as the article's tool does.
     *
     * @throws IllegalStateException if the port-inspector kext is not loaded
     */
    public static PortTracer open(UserProcess self) {
        int[] mib = new int[12];
        long[] size = {mib.length};
        if (self.sysctlnametomib("debug.port_tracer", mib, size) != 0) {
            throw new IllegalStateException("debug.port_tracer is not registered: load the port-inspector kext "
                    + "(" + PortInspectorKext.class.getSimpleName() + ") first");
        }
        int[] out = new int[(int) size[0] + 2];
        System.arraycopy(mib, 0, out, 0, (int) size[0]);
        return new PortTracer(self, out);
    }

    /** The port names of a process with their message queues, or null if it is gone. */
    public List<Entry> entries(int pid, int typeMask) {
        int[] name = mib.clone();
        name[name.length - 2] = pid;
        name[name.length - 1] = typeMask;
        long[] len = {0};
        if (self.sysctl(name, name.length, null, len, null, 0) != 0) {
            return null;
        }
        byte[] buf = new byte[(int) len[0]];
        if (buf.length > 0 && self.sysctl(name, name.length, buf, len, null, 0) != 0) {
            return null;
        }
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, (int) len[0]).order(ByteOrder.LITTLE_ENDIAN);
        List<Entry> out = new ArrayList<>();
        while (bb.remaining() >= PortInspectorKext.RECORD_SIZE) {
            out.add(new Entry(bb.getInt(), bb.getInt(), bb.getLong()));
        }
        return out;
    }

    /** Traces the target against every process on the system. */
    public Report trace(int targetPid, Map<Integer, String> processNames) {
        List<Entry> target = entries(targetPid, ~0);
        if (target == null) {
            throw new IllegalArgumentException("no process with pid " + targetPid);
        }
        Set<Long> queues = new HashSet<>();
        for (Entry e : target) {
            if (e.mqueue() != 0) {
                queues.add(e.mqueue());
            }
        }
        int[] pids = new int[4096];
        int n = self.proc_listallpids(pids, pids.length * 4);
        Set<Long> sharedSomewhere = new HashSet<>();
        List<Sharing> sharing = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int pid = pids[i];
            if (pid == targetPid || pid == 0) {
                continue;
            }
            List<Entry> theirs = entries(pid, ~0);
            if (theirs == null) {
                continue;
            }
            int shared = 0;
            for (Entry e : theirs) {
                if (e.mqueue() != 0 && queues.contains(e.mqueue())) {
                    shared++;
                    sharedSomewhere.add(e.mqueue());
                }
            }
            if (shared > 0) {
                sharing.add(new Sharing(pid, processNames.getOrDefault(pid, "?"), shared));
            }
        }
        sharing.sort(Comparator.comparingInt(Sharing::shared).reversed().thenComparingInt(Sharing::pid));
        int alone = 0;
        int send = 0;
        int receive = 0;
        int dead = 0;
        for (Entry e : target) {
            if (e.mqueue() == 0 || !sharedSomewhere.contains(e.mqueue())) {
                alone++;
            }
            send += (e.type() & MACH_PORT_TYPE_SEND) != 0 ? 1 : 0;
            receive += (e.type() & MACH_PORT_TYPE_RECEIVE) != 0 ? 1 : 0;
            dead += e.type() == MACH_PORT_TYPE_DEAD_NAME ? 1 : 0;
        }
        return new Report(targetPid, processNames.getOrDefault(targetPid, "?"), target.size(), send, receive, dead,
                alone, sharing);
    }

    /** Process names by pid, from the kernel's census, for printing. */
    public static Map<Integer, String> names(dev.kextharness.kernel.Kernel kernel) {
        Map<Integer, String> out = new HashMap<>();
        kernel.ipc().tasks().forEach(t -> out.put(t.pid(), t.name()));
        return out;
    }
}
