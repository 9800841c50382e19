package dev.kextharness.kernel.soak;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * One line of the soak's log, as {@code log show} prints it and the source article quotes it:
 * the wall-clock time, the process that logged it, the message.
 *
 * @param uptimeNanos simulated uptime when the line was logged
 * @param process     who logged it: {@code kernel}, or the user-space daemon that wrote a jetsam report
 * @param message     the text, without a trailing newline
 *
 * <p>Stability: stable.
 */
public record TimelineLine(long uptimeNanos, String process, String message) {
    /**
     * When the simulated Mac booted: the source article's Mac, whose first jetsam kill came at
     * 03:21:09.480924+0100 on 6 August 2020, at an uptime of 1,238,233.930 s.
     */
    public static final OffsetDateTime BOOT_TIME = OffsetDateTime.of(2020, 7, 22, 19, 23, 55, 550_924_000,
            ZoneOffset.ofHours(1));

    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxx");

    /** The wall-clock time of a simulated uptime. */
    public static OffsetDateTime wallClock(long uptimeNanos) {
        Instant boot = BOOT_TIME.toInstant();
        return boot.plusNanos(uptimeNanos).atOffset(BOOT_TIME.getOffset());
    }

    /** {@code 2020-08-06 03:21:09.447981+0100 kernel zone_map_exhaustion: ...}. */
    public String render() {
        return FORMAT.format(wallClock(uptimeNanos)) + " " + process + " " + message;
    }
}
