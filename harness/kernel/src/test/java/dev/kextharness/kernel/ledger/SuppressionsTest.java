package dev.kextharness.kernel.ledger;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SuppressionsTest {
    private static final CallSite ALLOC = new CallSite(7, 1, "com.example.k", "_MALLOC", Family.MALLOC,
            "com.example.K", "start", "K.java", 20);
    private static final CallSite FREE = new CallSite(8, 1, "com.example.k", "kfree", Family.KALLOC,
            "com.example.K", "stop", "K.java", 30);

    private static LeakReport report() {
        LedgerSnapshot leaks = new LedgerSnapshot.Builder().add(ALLOC, "kalloc.16", null, 10, 16, 0x1000)
                .add(ALLOC, "kalloc.16", null, 10, 16, 0x2000).build();
        return new LeakReport("com.example.k", leaks,
                List.of(new Finding(Finding.Kind.SIZE_MISMATCH, FREE, 0x3000, "kfree of another size", List.of(ALLOC))));
    }

    @Test
    void aSuppressionBySignatureTakesTheLeakAndCountsIt() {
        Suppressions s = Suppressions.parse("""
                {
                   start-buffers
                   kind: leak
                   site: com.example.k|_MALLOC|com.example.K.start
                   family: MALLOC
                }
                """, "test.supp");

        LeakReport out = s.apply(report());

        assertThat(out.hasLeaks()).isFalse();
        assertThat(out.findings()).hasSize(1);
        assertThat(out.suppressed()).containsExactly(new Suppressions.Use("start-buffers", "leak", 2, 20));
        assertThat(out.render()).contains("2 allocations (20 bytes) by 'start-buffers'");
        assertThat(out.toJson()).contains("\"suppressed\"").contains("\"schemaVersion\" : 1");
    }

    @Test
    void kindsGlobsAndTheFirstMatchDecide() {
        Suppressions s = Suppressions.parse("""
                {
                   any-finding
                   kind: finding
                   kext: com.example.*
                }
                {
                   everything
                   kind: *
                }
                """, "test.supp");

        LeakReport out = s.apply(report());

        assertThat(out.isClean()).isTrue();
        assertThat(out.suppressed()).extracting(Suppressions.Use::name).containsExactly("everything", "any-finding");
        assertThat(out.headline()).isEqualTo("KEXT CLEAN: com.example.k: nothing outstanding at unload but what "
                + "suppressions accepted");
    }

    @Test
    void generatedSuppressionsReadBackAndSuppressWhatTheyWereGeneratedFrom() {
        String generated = Suppressions.generate(report());

        assertThat(generated).contains("kind: leak").contains("kind: size-mismatch")
                .contains("site: com.example.k|kfree|com.example.K.stop").doesNotContain("20").doesNotContain("30");
        assertThat(Suppressions.parse(generated, "gen").apply(report()).isClean()).isTrue();
    }

    @Test
    void malformedFilesNameTheLineAndTheFix() {
        assertThatThrownBy(() -> Suppressions.parse("{\n  n\n  kind: leak\n", "a.supp"))
                .hasMessageStartingWith("a.supp:1: the suppression opened here is never closed with '}'");
        assertThatThrownBy(() -> Suppressions.parse("{\n  n\n  family: malloc_zone_x\n  kind: leak\n}", "b.supp"))
                .hasMessageContaining("b.supp:1: suppression 'n' has family 'malloc_zone_x'");
        assertThatThrownBy(() -> Suppressions.parse("{\n  n\n}\n{\n  n\n  kind: leak\n}", "c.supp"))
                .hasMessageContaining("has no kind");
        assertThatThrownBy(() -> Suppressions.parse("leak:foo", "d.supp"))
                .hasMessageStartingWith("d.supp:1: expected '{' to open a suppression, found 'leak:foo'");
    }
}
