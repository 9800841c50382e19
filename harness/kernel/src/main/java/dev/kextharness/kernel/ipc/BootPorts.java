package dev.kextharness.kernel.ipc;

import java.util.List;

import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MAKE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_RECEIVE;

/**
 * The ports the boot processes share, so that a fresh kernel looks like a running Mac to
 * port_tracer: launchd holds the bootstrap port's receive right and every process a send right to
 * it; WindowServer serves a port the GUI processes hold send rights to. (A sketch of a system,
 * not a replay of launchd's real port layout.)
 */
public final class BootPorts {
    private BootPorts() {
    }

    /** Names the bootstrap and WindowServer ports in the boot processes' spaces. */
    public static void connect(Ipc ipc) {
        Task launchd = ipc.task(1);
        if (launchd == null) {
            return;
        }
        int bootstrap = serve(ipc, launchd);
        for (Task t : ipc.tasks()) {
            if (t.pid() > 1) {
                give(ipc, launchd, bootstrap, t);
            }
        }
        Task windowServer = ipc.tasks().stream().filter(t -> t.name().equals("WindowServer")).findFirst().orElse(null);
        if (windowServer != null) {
            int port = serve(ipc, windowServer);
            for (Task t : ipc.tasks()) {
                if (List.of("loginwindow", "Finder", "Dock", "Safari").contains(t.name())) {
                    give(ipc, windowServer, port, t);
                }
            }
        }
    }

    private static int serve(Ipc ipc, Task server) {
        int[] name = new int[1];
        ipc.allocate(server.space(), MACH_PORT_RIGHT_RECEIVE, name);
        ipc.insertRight(server.space(), name[0], server.space(), name[0], MACH_MSG_TYPE_MAKE_SEND);
        return name[0];
    }

    private static void give(Ipc ipc, Task server, int serverName, Task client) {
        ipc.transfer(server.space(), serverName, MACH_MSG_TYPE_MAKE_SEND, client.space());
    }
}
