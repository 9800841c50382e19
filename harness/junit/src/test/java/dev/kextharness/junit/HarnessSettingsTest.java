package dev.kextharness.junit;

import dev.kextharness.kernel.kext.LeakPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HarnessSettingsTest {

    private static HarnessSettings read(Map<String, String> parameters) {
        return HarnessSettings.fromConfiguration(key -> Optional.ofNullable(parameters.get(key)), parameters.keySet());
    }

    @Test
    void unknownKeyIsAnErrorListingTheKnownOnes() {
        assertThatThrownBy(() -> read(Map.of("kextharness.leakpolicy", "panic")))
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("kextharness.leakpolicy=panic")
                .hasMessageContaining("kextharness.leakPolicy (panic|fail|xnu)")
                .hasMessageContaining("kextharness.physicalMemory")
                .hasMessageContaining("kextharness.findings (true|false)");
    }

    @Test
    void otherKeysAreNotOurs() {
        HarnessSettings settings = HarnessSettings.fromConfiguration(key -> Optional.empty(),
                Set.of("junit.jupiter.execution.parallel.enabled", "kextharnessx"));

        assertThat(settings.leakPolicy()).isEqualTo(LeakPolicy.FAIL);
    }

    @Test
    void valuesAreReadCaseInsensitively() {
        HarnessSettings settings = read(Map.of("kextharness.leakPolicy", " Panic ", "kextharness.physicalMemory", "8g",
                "kextharness.findings", "FALSE"));

        assertThat(settings.leakPolicy()).isEqualTo(LeakPolicy.PANIC);
        assertThat(settings.kernelConfig().physicalMemory()).isEqualTo(8L << 30);
        assertThat(settings.kernelConfig().findings()).isFalse();
    }

    @Test
    void sizesTakeBinaryUnits() {
        assertThat(HarnessSettings.parsePhysicalMemory("k", "512M")).isEqualTo(512L << 20);
        assertThat(HarnessSettings.parsePhysicalMemory("k", "1GiB")).isEqualTo(1L << 30);
        assertThat(HarnessSettings.parsePhysicalMemory("k", "268435456")).isEqualTo(256L << 20);
    }

    @Test
    void badValuesNameKeyValueAndAllowedValues() {
        assertThatThrownBy(() -> read(Map.of("kextharness.findings", "yes")))
                .hasMessageContaining("kextharness.findings").hasMessageContaining("'yes'").hasMessageContaining("true|false");
        assertThatThrownBy(() -> read(Map.of("kextharness.physicalMemory", "lots")))
                .hasMessageContaining("kextharness.physicalMemory").hasMessageContaining("'lots'")
                .hasMessageContaining("8G");
        assertThatThrownBy(() -> read(Map.of("kextharness.physicalMemory", "99999999999T")))
                .hasMessageContaining("too large");
    }

    @Test
    void strongerSettingsWinValueByValue() {
        HarnessSettings weak = new HarnessSettings(LeakPolicy.XNU, 1L << 30, true, null);
        HarnessSettings strong = new HarnessSettings(LeakPolicy.PANIC, null, null, null);

        HarnessSettings merged = weak.overriddenBy(strong);

        assertThat(merged.leakPolicy()).isEqualTo(LeakPolicy.PANIC);
        assertThat(merged.kernelConfig().physicalMemory()).isEqualTo(1L << 30);
    }

    @Test
    void builderRejectsBadSizes() {
        assertThatThrownBy(() -> KextHarnessExtension.builder().physicalMemory("1M"))
                .isInstanceOf(ExtensionConfigurationException.class)
                .hasMessageContaining("'1M'");
    }
}
