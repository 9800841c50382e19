package dev.kextharness.kernel.user;

import java.util.List;

/**
 * The parts of a macOS crash report ({@code ~/Library/Logs/DiagnosticReports/*.crash}) a
 * simulated process crash fills in: process, exception, CoreFoundation's crash-log message and
 * the crashed thread's frames (names only: the simulation has no binary images).
 *
 * @param process                          the process name
 * @param pid                              its pid
 * @param exceptionType                    such as {@code EXC_BREAKPOINT (SIGTRAP)}
 * @param applicationSpecificInformation   the message the library set before halting
 * @param frames                           frames of the crashed thread, innermost first, as {@code image  symbol}
 */
public record CrashReport(String process, int pid, String exceptionType, String applicationSpecificInformation,
                          List<String> frames) {

    public CrashReport {
        frames = List.copyOf(frames);
    }

    /** The report as text, in the layout of a macOS crash report's header and crashed thread. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("Process:               %s [%d]%n", process, pid));
        sb.append(String.format("Crashed Thread:        0%n%n"));
        sb.append(String.format("Exception Type:        %s%n%n", exceptionType));
        sb.append(String.format("Application Specific Information:%n%s%n%n", applicationSpecificInformation));
        sb.append(String.format("Thread 0 Crashed:%n"));
        for (int i = 0; i < frames.size(); i++) {
            sb.append(String.format("%-4d%s%n", i, frames.get(i)));
        }
        return sb.toString().replace("\r\n", "\n");
    }

    @Override
    public String toString() {
        return render();
    }
}
