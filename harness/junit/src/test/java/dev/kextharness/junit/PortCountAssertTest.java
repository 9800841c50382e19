package dev.kextharness.junit;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.user.UserProcess;
import org.junit.jupiter.api.Test;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code portCountOf}: the port-leak article's CI check as one assertion. */
@KextTest
class PortCountAssertTest {

    @Test
    void countsThePortNamesOfAProcess(Kernel kernel) {
        UserProcess p = UserProcess.spawn(kernel, "ci");
        assertThat(kernel).portCountOf(p.pid()).isEqualTo(1); // its task port

        p.mach_thread_self();
        p.mach_thread_self();

        assertThat(kernel).portCountOf(p.pid()).isEqualTo(2); // one more name, however many references
        assertThatThrownBy(() -> assertThat(kernel).portCountOf(p.pid()).isLessThan(2))
                .hasMessageContaining("port names of ci [" + p.pid() + "] (2 send, 0 receive, 0 dead names)");
    }

    @Test
    void aProcessThatIsNotRunningFailsAtOnce(Kernel kernel) {
        UserProcess p = UserProcess.spawn(kernel, "gone");
        p.exit();

        assertThatThrownBy(() -> assertThat(kernel).portCountOf(p.pid()))
                .hasMessageContaining("Expecting process " + p.pid() + " to be alive")
                .hasMessageContaining("launchd [1]");
    }
}
