package dev.kextharness.kernel.panic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kextharness.kernel.panic.PanicReport.BacktraceKext;
import dev.kextharness.kernel.panic.PanicReport.Dependency;
import dev.kextharness.kernel.panic.PanicReport.KextEvent;
import dev.kextharness.kernel.panic.PanicReport.KmodUsage;
import dev.kextharness.kernel.panic.PanicReport.PanicDiags;
import dev.kextharness.kernel.panic.PanicReport.ZleakTrace;
import dev.kextharness.kernel.panic.PanicReport.ZoneUsage;
import dev.kextharness.kernel.panic.PanicReport.ZprintSection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PanicLogTest {

    private static final long[][] SEED_FRAMES = {
        {0xffffff90b627b6c0L, 0xffffff801d830c64L},
        {0xffffff90b627bb60L, 0xffffff7f9f73ed55L},
        {0xffffff90b627bb80L, 0xffffff7f9f73edaeL},
        {0xffffff90b627bb90L, 0xffffff7f9f73ee61L},
        {0xffffff90b627bbc0L, 0xffffff801ddffedfL},
        {0xffffff90b627bbf0L, 0xffffff801ddfd7daL},
        {0xffffff90b627bc30L, 0xffffff801de06bfeL},
        {0xffffff90b627bc70L, 0xffffff801de0c7e4L},
        {0xffffff90b627bcf0L, 0xffffff801de1bcfcL},
        {0xffffff90b627bd70L, 0xffffff801d88bd15L},
        {0xffffff90b627bdc0L, 0xffffff801d8361ccL},
        {0xffffff90b627be20L, 0xffffff801d80d19cL},
        {0xffffff90b627be70L, 0xffffff801d826057L},
        {0xffffff90b627bf00L, 0xffffff801d96db7dL},
        {0xffffff90b627bfb0L, 0xffffff801d7d9db6L},
    };

    /** The panic log of seed article 002 (a 10.12 kernel), from its first line to the uptime. */
    private static final String SEED_LOG = """
            panic(cpu 1 caller 0xffffff7f9f73ed55):\s
            libkext_mref#L26 (potential memleak)  opt: 2 cnt: 1

            Backtrace (CPU 1), Frame : Return Address
            0xffffff90b627b6c0 : 0xffffff801d830c64\s
            0xffffff90b627bb60 : 0xffffff7f9f73ed55\s
            0xffffff90b627bb80 : 0xffffff7f9f73edae\s
            0xffffff90b627bb90 : 0xffffff7f9f73ee61\s
            0xffffff90b627bbc0 : 0xffffff801ddffedf\s
            0xffffff90b627bbf0 : 0xffffff801ddfd7da\s
            0xffffff90b627bc30 : 0xffffff801de06bfe\s
            0xffffff90b627bc70 : 0xffffff801de0c7e4\s
            0xffffff90b627bcf0 : 0xffffff801de1bcfc\s
            0xffffff90b627bd70 : 0xffffff801d88bd15\s
            0xffffff90b627bdc0 : 0xffffff801d8361cc\s
            0xffffff90b627be20 : 0xffffff801d80d19c\s
            0xffffff90b627be70 : 0xffffff801d826057\s
            0xffffff90b627bf00 : 0xffffff801d96db7d\s
            0xffffff90b627bfb0 : 0xffffff801d7d9db6\s
                  Kernel Extensions in backtrace:
                     cn.junkman.kext-memleak(1.0)[62D705E1-D080-30F7-9AB1-1CA1F37A07D6]@0xffffff7f9f73e000->0xffffff7f9f740fff

            BSD process name corresponding to current thread: kextunload
            Boot args: debug=0x144 kext-dev-mode=1 pmuflags=1 -v

            Mac OS version:
            16G29

            Kernel version:
            Darwin Kernel Version 16.7.0: Thu Jun 15 17:36:27 PDT 2017; root:xnu-3789.70.16~2/DEVELOPMENT_X86_64
            Kernel UUID: B8B972B8-220D-3E56-92F8-ADB8CF777CE2
            Kernel slide:     0x000000001d400000
            Kernel text base: 0xffffff801d600000
            __HIB  text base: 0xffffff801d500000
            System model name: VMware7,1 (Mac-E43C1C25D4880AD6)

            System uptime in nanoseconds: 354232721359
            """;

    private static final String ZALLOC_MESSAGE = "zalloc: zone map exhausted while allocating from zone kalloc.12288, "
            + "likely due to memory leak in zone kalloc.48 (6586956000 total bytes, 137228148 elements allocated)";

    private static PanicReport.Builder seedReport() {
        PanicReport.Builder builder = PanicReport.builder()
                .cpu(1)
                .caller(0xffffff7f9f73ed55L)
                .kextPanic("\nlibkext_mref#L26 (potential memleak)  opt: 2 cnt: 1\n")
                .backtraceKext(new BacktraceKext("cn.junkman.kext-memleak", "1.0",
                        "62D705E1-D080-30F7-9AB1-1CA1F37A07D6", 0xffffff7f9f73e000L, 0x3000, List.of()))
                .processName("kextunload")
                .bootArgs("debug=0x144 kext-dev-mode=1 pmuflags=1 -v")
                .osVersion("16G29")
                .kernelVersion("Darwin Kernel Version 16.7.0: Thu Jun 15 17:36:27 PDT 2017; "
                        + "root:xnu-3789.70.16~2/DEVELOPMENT_X86_64")
                .kernelUuid("B8B972B8-220D-3E56-92F8-ADB8CF777CE2")
                .kernelSlide(0x1d400000L)
                .kernelTextBase(0xffffff801d600000L)
                .hibTextBase(0xffffff801d500000L)
                .systemModel("VMware7,1 (Mac-E43C1C25D4880AD6)")
                .uptimeNanos(354232721359L);
        for (long[] frame : SEED_FRAMES) {
            builder.frame(frame[0], frame[1]);
        }
        return builder;
    }

    @Test
    void kextPanicReproducesTheSeedArticlesLog() {
        PanicReport report = seedReport()
                .lastLoaded(new KextEvent(354100000000L, "cn.junkman.kext-memleak", "1.0", 0xffffff7f9f73e000L, 12288))
                .loadedKext("com.apple.kec.corecrypto", "1.0", true)
                .loadedKext("cn.junkman.kext-memleak", "1.0", false)
                .build();

        assertThat(PanicLog.render(report)).isEqualTo(SEED_LOG
                + "last loaded kext at 354100000000: cn.junkman.kext-memleak\t1.0 (addr 0xffffff7f9f73e000, size 12288)\n"
                + "loaded kexts:\n"
                + "cn.junkman.kext-memleak\t1.0\n"
                + "@kec.corecrypto\t1.0\n");
    }

    @Test
    void zoneMapPanicFromTheKernelIncludesTheZprintSection() {
        PanicReport report = PanicReport.builder()
                .cpu(8)
                .caller(0xffffff80017729ebL)
                .kernelPanic(ZALLOC_MESSAGE, PanicReport.XNU_6153_SOURCES + "osfmk/kern/zalloc.c", 3627)
                .frame(0xffffffa0ba4a3a40L, 0xffffff800171a65dL)
                .frame(0xffffffa0ba4a3a90L, 0xffffff8001853a75L)
                .frame(0xffffffa0ba4a3b20L, 0xffffff80017729ebL)
                .frame(0xffffffa0ba4a3b60L, 0xffffff7f83ee5a10L)
                .backtraceKext(new BacktraceKext("com.example.driver.Leaky", "1.0.3",
                        "2C1E1B5A-0D3C-3F1B-9A77-3C8E2D2B9F10", 0xffffff7f83ee4000L, 0x4000, List.of(
                                new Dependency("com.apple.iokit.IOPCIFamily", "2.9",
                                        "1E3B43A0-4E0A-3B5E-8C2B-6A8E0D4F2C11", 0xffffff7f8226f000L),
                                new Dependency("com.apple.kpi.iokit", "19.6.0", "", 0))))
                .processName("kernel_task")
                .bootArgs("chunklist-security-epoch=0 -chunklist-no-rev2-dev")
                .osVersion("19G73")
                .kernelVersion("Darwin Kernel Version 19.6.0: Thu Jun 18 20:49:00 PDT 2020; "
                        + "root:xnu-6153.141.1~1/RELEASE_X86_64")
                .kernelUuid("9B5A7191-5B84-3990-8710-D9BD9273A8E5")
                .kernelSlide(0x1c400000L)
                .kernelTextBase(0xffffff801c600000L)
                .hibTextBase(0xffffff801c500000L)
                .systemModel("MacBookPro15,1 (Mac-937A206F2EE63C01)")
                .shutdownBegun(false)
                .panicDiags(PanicDiags.available())
                .uptimeNanos(1459093637766L)
                .zprint(new ZprintSection(List.of(
                        new ZoneUsage("kalloc.16", 1_048_576, 1024),
                        new ZoneUsage("kalloc.48", 6_586_956_000L, 4800),
                        new ZoneUsage("kalloc.32", 524_288, 0),
                        new ZoneUsage("VM map entries", 1_048_577, 0)),
                        9_437_184, 52_699_136, 1_346_371_584,
                        List.of(new KmodUsage(12, 1_048_576), new KmodUsage(57, 6_586_957_824L))))
                .lastLoaded(new KextEvent(1209286541588L, "com.apple.filesystems.smbfs", "3.4.4",
                        0xffffff7fa1a27000L, 421888))
                .lastUnloaded(new KextEvent(199547254232L, "com.apple.driver.usb.AppleUSBHostPacketFilter", "1.0",
                        0xffffff7fa16b9000L, 24576))
                .loadedKext("com.apple.iokit.IOPCIFamily", "2.9", true)
                .loadedKext("com.apple.iokit.IOStorageFamily", "2.1", true)
                .loadedKext("com.apple.driver.AppleUSBHostMergeProperties", "1.2", false)
                .loadedKext("com.apple.driver.AppleIntelCPUPowerManagement", "222.0.0", false)
                .loadedKext("com.apple.iokit.IOBluetoothFamily", "7.0.6f7", true)
                .loadedKext("com.apple.security.sandbox", "300.0", false)
                .loadedKext("com.example.driver.Leaky", "1.0.3", false)
                .loadedKext("com.apple.kec.corecrypto", "1.0", true)
                .loadedKext("org.virtualbox.kext.VBoxDrv", "6.1.16", false)
                .loadedKext("com.apple.filesystems.smbfs", "3.4.4", false)
                .loadedKext("AppleLikeVendor.Controller", "1.0", false)
                .build();

        assertThat(PanicLog.render(report)).isEqualTo("""
                panic(cpu 8 caller 0xffffff80017729eb): "zalloc: zone map exhausted while allocating from zone kalloc.12288, \
                likely due to memory leak in zone kalloc.48 (6586956000 total bytes, 137228148 elements allocated)"\
                @/AppleInternal/BuildRoot/Library/Caches/com.apple.xbs/Sources/xnu/xnu-6153.141.1/osfmk/kern/zalloc.c:3627
                Backtrace (CPU 8), Frame : Return Address
                0xffffffa0ba4a3a40 : 0xffffff800171a65d\s
                0xffffffa0ba4a3a90 : 0xffffff8001853a75\s
                0xffffffa0ba4a3b20 : 0xffffff80017729eb\s
                0xffffffa0ba4a3b60 : 0xffffff7f83ee5a10\s
                      Kernel Extensions in backtrace:
                         com.example.driver.Leaky(1.0.3)[2C1E1B5A-0D3C-3F1B-9A77-3C8E2D2B9F10]@0xffffff7f83ee4000->0xffffff7f83ee7fff
                            dependency: com.apple.iokit.IOPCIFamily(2.9)[1E3B43A0-4E0A-3B5E-8C2B-6A8E0D4F2C11]@0xffffff7f8226f000

                BSD process name corresponding to current thread: kernel_task
                Boot args: chunklist-security-epoch=0 -chunklist-no-rev2-dev

                Mac OS version:
                19G73

                Kernel version:
                Darwin Kernel Version 19.6.0: Thu Jun 18 20:49:00 PDT 2020; root:xnu-6153.141.1~1/RELEASE_X86_64
                Kernel UUID: 9B5A7191-5B84-3990-8710-D9BD9273A8E5
                Kernel slide:     0x000000001c400000
                Kernel text base: 0xffffff801c600000
                __HIB  text base: 0xffffff801c500000
                System model name: MacBookPro15,1 (Mac-937A206F2EE63C01)
                System shutdown begun: NO
                Panic diags file available: YES (0x0)

                System uptime in nanoseconds: 1459093637766
                Zone Name              Cur Size  Free Size
                kalloc.48            6586956000       4800
                VM map entries          1048577          0
                Kernel Stacks           9437184
                PageTables             52699136
                Kalloc.Large         1346371584

                Kmod        Size
                57    6586957824
                last loaded kext at 1209286541588: @filesystems.smbfs\t3.4.4 (addr 0xffffff7fa1a27000, size 421888)
                last unloaded kext at 199547254232: >usb.!UHostPacketFilter\t1.0 (addr 0xffffff7fa16b9000, size 24576)
                loaded kexts:
                AppleLikeVendor.!C\t1.0
                org.virtualbox.kext.VBoxDrv\t6.1.16
                com.example.driver.Leaky\t1.0.3
                @filesystems.smbfs\t3.4.4
                $sandbox\t300.0
                >!A!ICPUPowerManagement\t222.0.0
                >!UHostMergeProperties\t1.2
                @kec.corecrypto\t1.0
                |IO!B!F\t7.0.6f7
                |IO!S!F\t2.1
                |IOPCI!F\t2.9
                """);
    }

    @Test
    void backtraceStopsAt48FramesAndSaysItContinues() {
        String fifty = PanicLog.render(withFrames(50));
        String fortyEight = PanicLog.render(withFrames(48));
        String fortySeven = PanicLog.render(withFrames(47));

        assertThat(fifty).contains(frameLine(47) + "\tBacktrace continues...\n").doesNotContain(frameLine(48));
        assertThat(fifty.lines().filter(line -> line.startsWith("0xffffff90"))).hasSize(48);
        assertThat(fortyEight).contains(frameLine(47) + "\tBacktrace continues...\n");
        assertThat(fortySeven).contains(frameLine(46) + "\nBSD process name").doesNotContain("continues");
    }

    @Test
    void absentConfigurationFollowsTheKernelsDefaults() {
        PanicReport report = PanicReport.builder()
                .kextPanic("oops")
                .processName("com.apple.WebKit.WebContent")
                .bootArgs("")
                .kernelVersion("Darwin")
                .hibTextBase(0xffffff8000100000L)
                .panicDiags(PanicDiags.uninitialized())
                .build();

        assertThat(PanicLog.render(report)).isEqualTo("""
                panic(cpu 0 caller 0x0): oops
                Backtrace (CPU 0), Frame : Return Address

                BSD process name corresponding to current thread: com.apple.WebKit

                Mac OS version:
                Not yet set

                Kernel version:
                Darwin
                __HIB  text base: 0xffffff8000100000
                Panic diags file unavailable, panic occurred prior to initialization

                System uptime in nanoseconds: 0
                loaded kexts:
                (none)
                """);
    }

    @Test
    void unknownProcessRootDiskErrorsAndFailedDiagsFile() {
        String log = PanicLog.render(PanicReport.builder()
                .kextPanic("x")
                .kernelVersion("Darwin")
                .rootDiskErrors("disk0s2 I/O error")
                .shutdownBegun(true)
                .panicDiags(PanicDiags.openFailed(0xe00002c9))
                .build());

        assertThat(log)
                .contains("\nBSD process name corresponding to current thread: Unknown\n")
                .contains("__HIB  text base: 0\n"
                        + "Root disk errors: \"disk0s2 I/O error\"\n"
                        + "System shutdown begun: YES\n"
                        + "Panic diags file available: NO (0xe00002c9)\n\n");
    }

    @Test
    void zleakSuspectBacktraceFollowsTheZoneSummary() {
        List<Long> stack = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            stack.add(0xffffff8001700000L + i);
        }
        String log = PanicLog.render(PanicReport.builder()
                .kernelPanic("zalloc", "zalloc.c", 1)
                .kernelVersion("Darwin")
                .uptimeNanos(5)
                .zprint(new ZprintSection(List.of(), 1, 2, 3, null))
                .zleak(new ZleakTrace(6_586_956_000L, stack, List.of(new BacktraceKext("com.example.driver.Leaky",
                        "1.0.3", "2C1E1B5A-0D3C-3F1B-9A77-3C8E2D2B9F10", 0xffffff7f83ee4000L, 0x4000, List.of()))))
                .build());

        StringBuilder frames = new StringBuilder();
        for (int i = 0; i < 15; i++) {
            frames.append("0xffffff800170000").append(Integer.toHexString(i)).append(" \n");
        }
        assertThat(log).endsWith("\nSystem uptime in nanoseconds: 5\n"
                + "Zone Name              Cur Size  Free Size\n"
                + "Kernel Stacks                 1\n"
                + "PageTables                    2\n"
                + "Kalloc.Large                  3\n"
                + "\nBacktrace suspected of leaking: (outstanding bytes: 6586956000)\n"
                + frames
                + "      Kernel Extensions in backtrace:\n"
                + "         com.example.driver.Leaky(1.0.3)[2C1E1B5A-0D3C-3F1B-9A77-3C8E2D2B9F10]"
                + "@0xffffff7f83ee4000->0xffffff7f83ee7fff\n"
                + "\n"
                + "loaded kexts:\n(none)\n");
    }

    @Test
    void compactIdentifierReplacesOnePrefixThenSubstrings() {
        assertThat(PanicLog.compactIdentifier("com.apple.driver.AppleUSBHostMergeProperties"))
                .isEqualTo(">!UHostMergeProperties");
        assertThat(PanicLog.compactIdentifier("com.apple.iokit.IOStorageFamily")).isEqualTo("|IO!S!F");
        assertThat(PanicLog.compactIdentifier("com.apple.iokit.IOBluetoothHostControllerUSBTransport"))
                .isEqualTo("|IO!BHost!CUSBTransport");
        assertThat(PanicLog.compactIdentifier("com.apple.security.quarantine")).isEqualTo("$quarantine");
        assertThat(PanicLog.compactIdentifier("com.apple.kext.AMDRadeonX5000")).isEqualTo("@kext.AMDRadeonX5000");
        assertThat(PanicLog.compactIdentifier("com.apple.driver.AppleIntelKBLGraphics")).isEqualTo(">!A!IKBLGraphics");
        assertThat(PanicLog.compactIdentifier("cn.junkman.kext-memleak")).isEqualTo("cn.junkman.kext-memleak");
        // Substrings are replaced only after the first character, as in compactIdentifier().
        assertThat(PanicLog.compactIdentifier("AppleStorage")).isEqualTo("Apple!S");
    }

    @Test
    void compactIdentifierReadsOnlyTheFirst63Characters() {
        String id = "org.example." + "x".repeat(60);

        assertThat(PanicLog.compactIdentifier(id)).isEqualTo(id.substring(0, 63));
    }

    private static PanicReport withFrames(int count) {
        PanicReport.Builder builder = PanicReport.builder().kextPanic("x").kernelVersion("Darwin");
        for (int i = 0; i < count; i++) {
            builder.frame(0xffffff90b6270000L + 16L * i, 0xffffff801d800000L + i);
        }
        return builder.build();
    }

    private static String frameLine(int index) {
        return "0x" + Long.toHexString(0xffffff90b6270000L + 16L * index) + " : 0x"
                + Long.toHexString(0xffffff801d800000L + index) + " \n";
    }
}
