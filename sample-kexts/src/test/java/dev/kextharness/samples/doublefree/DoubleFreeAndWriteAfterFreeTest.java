package dev.kextharness.samples.doublefree;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.samples.CallSites;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static dev.kextharness.samples.SourceLines.location;
import static org.assertj.core.api.Assertions.assertThat;

@KextTest(leakPolicy = LeakPolicy.PANIC)
class DoubleFreeAndWriteAfterFreeTest {

    @Test
    void freeingAClosedSessionAgainPanicsWithXnusDoubleFreeMessage(Kernel kernel) {
        LoadedKext kext = kernel.kextload(DoubleFreeKext.class);
        SessionTable sessions = kext.service(SessionTable.class);
        long session = sessions.open();
        sessions.close(session);

        KernelPanic panic = assertThatPanics(() -> kernel.kextunload(kext))
                .hasPanicString(String.format("zfree: double free of %#x to zone kalloc.48", session))
                .actual();

        assertThat(panic.panicString()).endsWith("\n");
        assertThat(panic.harnessNote()).as("XNU would not stop at the second free itself")
                .contains("first freed by _FREE at " + location(DoubleFreeKext.class, "close", "_FREE(session, M_TEMP);"))
                .contains("kalloc.48 has a per-CPU cache (zcache), which takes the second free silently");
        assertThat(sessionLines(kernel)).containsExactly(
                String.format("session: opened %#x", session),
                String.format("session: closed %#x", session),
                String.format("session: freeing open session %#x", session));
    }

    @Test
    void bothFreesAreTheKextsOwnCallSites(Kernel kernel) {
        LoadedKext kext = kernel.kextload(DoubleFreeKext.class);
        SessionTable sessions = kext.service(SessionTable.class);
        sessions.close(sessions.open());

        assertThatPanics(() -> kernel.kextunload(kext));

        assertThat(CallSites.of(kernel.ledger(), kext.loadTag(), "_FREE")).extracting(CallSite::location)
                .containsExactlyInAnyOrder(
                        location(DoubleFreeKext.class, "close", "_FREE(session, M_TEMP);"),
                        location(DoubleFreeKext.class, "stop", "_FREE(current, M_TEMP);"));
    }

    @Test
    void aWriteAfterFreeIsCaughtAtTheWriteWithItsFreeAndItsAllocation(Kernel kernel) {
        LoadedKext kext = kernel.kextload(WriteAfterFreeKext.class);
        SessionTable sessions = kext.service(SessionTable.class);
        long session = sessions.open();

        KernelPanic panic = assertThatPanics(() -> sessions.close(session)).actual();

        assertThat(panic).hasPanicString(String.format("use after free: write of 4 bytes at %#x, 8 bytes into the freed "
                        + "48-byte block %#x in kalloc.48; accessed at store32 at %s; freed by _FREE at %s; "
                        + "allocated by _MALLOC(48) at %s", session + 8, session,
                location(WriteAfterFreeKext.class, "close", "store32(session + OFFSET_STATE, STATE_CLOSED);"),
                location(WriteAfterFreeKext.class, "close", "_FREE(session, M_TEMP);"),
                location(WriteAfterFreeKext.class, "open", "long session = _MALLOC(")));
        assertThat(panic.harnessNote()).as("Catalina's zcache never sees a write to a middle word")
                .contains("kalloc.48 has a per-CPU cache (zcache)", "never detected");
        assertThat(sessionLines(kernel)).as("close never printed").containsExactly(
                String.format("session: opened %#x", session));
    }

    @Test
    @KextTest(leakPolicy = LeakPolicy.XNU, findings = false)
    void inTheXnuModesTheWriteGoesThroughAndCatalinasZcacheNeverSeesIt(Kernel kernel) {
        LoadedKext kext = kernel.kextload(WriteAfterFreeKext.class);
        SessionTable sessions = kext.service(SessionTable.class);
        long session = sessions.open();
        sessions.close(session);

        // kalloc.48 has a per-CPU cache on Catalina, whose canary covers only the first and last word:
        // the write to the state word at offset 8 goes unseen, and the next open gets the element back.
        long again = sessions.open();

        assertThat(again).isEqualTo(session);
        assertThat(kernel.panicked()).isFalse();
        assertThat(sessionLines(kernel)).containsExactly(
                String.format("session: opened %#x", session),
                String.format("session: closed %#x", session),
                String.format("session: opened %#x", session));
        assertThat(CallSites.of(kernel.ledger(), kext.loadTag(), "_MALLOC")).extracting(CallSite::location)
                .containsExactly(location(WriteAfterFreeKext.class, "open", "long session = _MALLOC("));
    }

    @Test
    void balancedTwinFreesEachSessionOnceAndNeverTouchesItAfter(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedSessionKext.class);
        SessionTable sessions = kext.service(SessionTable.class);
        long first = sessions.open();
        sessions.close(first);
        long second = sessions.open();

        kernel.kextunload(kext);

        assertThat(second).as("the zone hands the freed element out again, unmodified").isEqualTo(first);
        assertThat(kernel.panicked()).isFalse();
        assertThat(kernel).hasNoLeaks();
        assertThat(sessionLines(kernel)).last().isEqualTo(String.format("session: freeing open session %#x", second));
    }

    private static List<String> sessionLines(Kernel kernel) {
        return kernel.log().lines().stream().map(l -> l.text()).filter(t -> t.startsWith("session: ")).toList();
    }
}
