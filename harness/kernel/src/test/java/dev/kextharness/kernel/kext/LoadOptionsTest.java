package dev.kextharness.kernel.kext;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LoadOptionsTest {
    @Test
    void withReturnsANewInstanceAndLeavesTheOriginal() {
        LoadOptions base = LoadOptions.defaults();
        LoadOptions strict = base.withLeakPolicy(LeakPolicy.FAIL).withData(0xffffff8012345678L);

        assertThat(base.leakPolicy()).isNull();
        assertThat(base.data()).isZero();
        assertThat(strict.leakPolicy()).isEqualTo(LeakPolicy.FAIL);
        assertThat(strict.data()).isEqualTo(0xffffff8012345678L);
        assertThat(strict).isEqualTo(LoadOptions.defaults().withData(0xffffff8012345678L).withLeakPolicy(LeakPolicy.FAIL))
                .isNotEqualTo(base);
        assertThat(strict.withLeakPolicy(null).leakPolicy()).isNull();
        assertThat(strict.toString()).contains("FAIL", "0xffffff8012345678");
    }
}
