package dev.kextharness.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/** Errors picocli does not hand to the execution-exception handler still end in one line. */
class UncaughtErrorsTest {

    @Command(name = "throws")
    static final class Throws implements Callable<Integer> {
        private final Error error;

        Throws(Error error) {
            this.error = error;
        }

        @Override
        public Integer call() {
            throw error;
        }
    }

    @Test
    void anErrorFromACommandIsOneLineAndStatusOne() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Throws(new AssertionError("kernel state\nsecond line")));

        int status = KextHarnessCli.execute(cl, new String[0], new PrintWriter(err, true));

        assertThat(status).isEqualTo(ExitCodes.SOFTWARE);
        assertThat(err.toString()).startsWith("throws: internal error: AssertionError: kernel state\n")
                .doesNotContain("second line").doesNotContain("\tat ");
    }

    @Test
    void runningOutOfHeapSaysHowToGiveItMore() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Throws(new OutOfMemoryError("Java heap space")));

        int status = KextHarnessCli.execute(cl, new String[0], new PrintWriter(err, true));

        assertThat(status).isEqualTo(ExitCodes.SOFTWARE);
        assertThat(err.toString()).contains("KEXT_HARNESS_JAVA_OPTS=-Xmx4g").doesNotContain("\tat ");
    }
}
