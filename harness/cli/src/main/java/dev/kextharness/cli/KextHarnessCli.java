package dev.kextharness.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

import dev.kextharness.cli.ports.PortTracerCommand;
import dev.kextharness.cli.project.NewCommand;
import dev.kextharness.cli.ports.PortsCommand;
import dev.kextharness.cli.soak.SoakCommand;
import dev.kextharness.samples.Sample;
import dev.kextharness.samples.SampleCatalog;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The {@code kext-harness} command: a simulated XNU kernel to load kexts into, from the shell. */
@Command(name = "kext-harness",
        mixinStandardHelpOptions = true,
        version = "kext-harness 0.1.0-SNAPSHOT (simulated XNU: xnu-6153.141.1, macOS 10.15.7 Catalina)",
        description = "Load mock kexts into a simulated XNU kernel and see whether they balance their allocations.",
        subcommands = {
                DemoCommand.class,
                LoadCommand.class,
                ZprintCommand.class,
                KextstatCommand.class,
                IoAllocCountCommand.class,
                SizeclassCommand.class,
                PortsCommand.class,
                PortTracerCommand.class,
                SoakCommand.class,
                NewCommand.class,
                CommandLine.HelpCommand.class},
        synopsisSubcommandLabel = "COMMAND",
        footer = {"", "Start with: kext-harness demo"})
public final class KextHarnessCli implements Runnable {

    @Spec
    private CommandSpec spec;

    /** Without a command: the usage, and a usage error. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "give a command, such as demo");
    }

    public static void main(String[] args) {
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        CommandLine cl = commandLine(new PrintWriter(System.out, true, StandardCharsets.UTF_8), err, Terminal.ansi());
        System.exit(execute(cl, args, err));
    }

    /**
     * Runs {@code cl}, turning what picocli lets through into one line on {@code err}: picocli hands
     * only Exceptions to {@link InternalErrors}, so an Error (the heap running out, or a KernelPanic
     * that escaped a command's verdict) would otherwise end in a stack trace.
     */
    static int execute(CommandLine cl, String[] args, PrintWriter err) {
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            err.println("kext-harness: the Java heap ran out; give it more with KEXT_HARNESS_JAVA_OPTS=-Xmx4g "
                    + "(the launcher's default is -Xmx1536m)");
            err.flush();
            return ExitCodes.SOFTWARE;
        } catch (Error e) {
            new InternalErrors().report(err, cl.getCommandSpec().qualifiedName(), e);
            return ExitCodes.SOFTWARE;
        }
    }

    /** The command line, writing to {@code out} and {@code err}; colours only if {@code ansi} says so. */
    public static CommandLine commandLine(PrintWriter out, PrintWriter err, Ansi ansi) {
        CommandLine cl = new CommandLine(new KextHarnessCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setColorScheme(Help.defaultColorScheme(ansi));
        cl.setParameterExceptionHandler(new UsageErrors());
        cl.setExecutionExceptionHandler(new InternalErrors());
        documentExitCodes(cl);
        listSamples(cl.getSubcommands().get("load"));
        listSamples(cl.getSubcommands().get("demo"));
        return cl;
    }

    /**
     * The exit statuses of the commands that do not declare their own: only those each can return.
     * A command not named here only prints a report.
     */
    private static final Map<String, String[]> EXIT_STATUSES = Map.of(
            "kext-harness", ExitCodes.LOAD_HELP,
            "load", ExitCodes.LOAD_HELP,
            "zprint", ExitCodes.REPORT_HELP,
            "kextstat", ExitCodes.REPORT_HELP,
            "ioalloccount", ExitCodes.REPORT_HELP);

    /** Every command's --help lists the exit statuses it can return, unless the command declares its own. */
    private static void documentExitCodes(CommandLine cl) {
        if (cl.getCommandSpec().usageMessage().exitCodeList().isEmpty() && !cl.getCommandName().equals("help")) {
            Map<String, String> codes = new LinkedHashMap<>();
            for (String entry : EXIT_STATUSES.getOrDefault(cl.getCommandName(), ExitCodes.REPORT_ONLY_HELP)) {
                int colon = entry.indexOf(':');
                codes.put(entry.substring(0, colon), entry.substring(colon + 1));
            }
            String heading = cl.getParent() == null ? "%nExit status (of load; each command's --help gives its own):%n"
                    : "%nExit status:%n";
            cl.getCommandSpec().usageMessage().exitCodeListHeading(heading).exitCodeList(codes);
        }
        cl.getSubcommands().values().forEach(KextHarnessCli::documentExitCodes);
    }

    /** The samples a command can name, from the catalog, at the end of its --help. */
    private static void listSamples(CommandLine cl) {
        List<String> footer = new ArrayList<>(List.of(cl.getCommandSpec().usageMessage().footer()));
        footer.add("%nSamples (the catalog, in tour order):");
        for (String line : sampleList(SampleCatalog.all(), cl.getUsageHelpWidth())) {
            footer.add(line.replace("%", "%%"));
        }
        cl.getCommandSpec().usageMessage().footer(footer.toArray(new String[0]));
    }

    /**
     * One entry per sample: its name in a column as wide as the longest name, its title beside it,
     * wrapped within {@code width} and indented to the title column, so picocli need not wrap it.
     */
    static List<String> sampleList(List<Sample> samples, int width) {
        int nameWidth = samples.stream().mapToInt(s -> s.name().length()).max().orElse(0);
        String indent = " ".repeat(2 + nameWidth + 2);
        int textWidth = Math.max(20, width - indent.length());
        List<String> lines = new ArrayList<>();
        for (Sample sample : samples) {
            List<String> title = wrap(sample.title(), textWidth);
            lines.add(String.format(Locale.ROOT, "  %-" + nameWidth + "s  %s", sample.name(), title.get(0)));
            title.subList(1, title.size()).forEach(rest -> lines.add(indent + rest));
        }
        return lines;
    }

    /** {@code text} in lines of at most {@code width} characters, broken between words. */
    private static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            line.append(line.length() == 0 ? "" : " ").append(word);
        }
        lines.add(line.toString());
        return lines;
    }

    /** A bad command line: one line naming what is wrong, a pointer to --help, status 2. */
    static final class UsageErrors implements IParameterExceptionHandler {
        @Override
        public int handleParseException(ParameterException ex, String[] args) {
            CommandLine cl = ex.getCommandLine();
            PrintWriter err = cl.getErr();
            String name = cl.getCommandSpec().qualifiedName();
            err.println(name + ": " + firstLine(ex.getMessage()));
            err.println("Try '" + name + " --help' for usage.");
            err.flush();
            return ExitCodes.USAGE;
        }
    }

    /**
     * Anything else that escapes a command is a harness bug: one line, no stack trace unless
     * {@code KEXT_HARNESS_DEBUG} is set, status 1. Kext misbehaviour never gets here: the commands
     * turn it into a verdict.
     */
    static final class InternalErrors implements IExecutionExceptionHandler {
        @Override
        public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
            report(cl.getErr(), cl.getCommandSpec().qualifiedName(), ex);
            return ExitCodes.SOFTWARE;
        }

        void report(PrintWriter err, String command, Throwable ex) {
            err.println(command + ": internal error: " + ex.getClass().getSimpleName()
                    + ": " + firstLine(String.valueOf(ex.getMessage())));
            if (System.getenv("KEXT_HARNESS_DEBUG") != null) {
                ex.printStackTrace(err);
            } else {
                err.println("This is a bug in the harness; rerun with KEXT_HARNESS_DEBUG=1 for the stack trace and "
                        + "report it.");
            }
            err.flush();
        }
    }

    static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }
}
