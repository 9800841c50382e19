package dev.kextharness.kernel.ipc;

import java.util.List;
import java.util.Optional;

/**
 * Port names per process, as {@code mach_port_names} sees them: Activity Monitor's "Ports" column
 * ({@link Row#names()}) broken down by right. The port-leak article's CI check counts these.
 *
 * @param rows one row per live user task, by pid
 */
public record PortCensus(List<Row> rows) {

    /**
     * @param pid       process id
     * @param process   process name
     * @param names     names in use (Activity Monitor's port count)
     * @param send      names holding a send right
     * @param receive   names holding a receive right
     * @param sendOnce  names holding a send-once right
     * @param portSets  port-set names
     * @param deadNames dead names (send rights whose port died)
     * @param urefs     user references over all names
     * @param tableSize entries in the space's table
     * @param threads   live threads
     */
    public record Row(int pid, String process, int names, int send, int receive, int sendOnce, int portSets,
                      int deadNames, long urefs, int tableSize, int threads) {
    }

    public PortCensus {
        rows = List.copyOf(rows);
    }

    /** The row of a pid, if that process is alive. */
    public Optional<Row> of(int pid) {
        return rows.stream().filter(r -> r.pid() == pid).findFirst();
    }

    /** Names in use by the process, or -1 if it is not alive. */
    public int portCountOf(int pid) {
        return of(pid).map(Row::names).orElse(-1);
    }
}
