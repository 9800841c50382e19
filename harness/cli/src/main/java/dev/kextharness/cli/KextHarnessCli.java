package dev.kextharness.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code kext-harness} command: a simulated XNU kernel to load kexts into, from the shell. */
@Command(name = "kext-harness",
        mixinStandardHelpOptions = true,
        version = "kext-harness 0.1.0-SNAPSHOT",
        description = "Load mock kexts into a simulated XNU kernel and see whether they balance their allocations.",
        subcommands = {CommandLine.HelpCommand.class})
public final class KextHarnessCli {

    public static void main(String[] args) {
        System.exit(new CommandLine(new KextHarnessCli()).execute(args));
    }
}
