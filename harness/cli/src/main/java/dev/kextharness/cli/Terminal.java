package dev.kextharness.cli;

import picocli.CommandLine.Help.Ansi;

import java.io.Console;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * Whether standard output is an interactive terminal, which decides whether help and reports
 * use ANSI colours. Before JDK 22 {@code System.console()} is null unless both standard streams
 * are a terminal; from JDK 22 on it is never null and {@code Console.isTerminal()} says so
 * instead. {@code NO_COLOR} and {@code TERM=dumb} turn colours off everywhere.
 */
public final class Terminal {

    private Terminal() {
    }

    /** picocli's ANSI mode for this process. */
    static Ansi ansi() {
        return ansi(System.getenv(), System.console());
    }

    static Ansi ansi(Map<String, String> env, Console console) {
        if (env.containsKey("NO_COLOR") || "dumb".equals(env.get("TERM"))) {
            return Ansi.OFF;
        }
        return isTerminal(console) ? Ansi.ON : Ansi.OFF;
    }

    public static boolean isTerminal(Console console) {
        if (console == null) {
            return false;
        }
        try {
            Method isTerminal = Console.class.getMethod("isTerminal"); // JDK 22+
            return (Boolean) isTerminal.invoke(console);
        } catch (NoSuchMethodException e) {
            return true; // before JDK 22 a non-null console is a terminal
        } catch (ReflectiveOperationException e) {
            return false;
        }
    }
}
