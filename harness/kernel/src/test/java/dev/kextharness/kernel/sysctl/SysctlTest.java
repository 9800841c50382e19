package dev.kextharness.kernel.sysctl;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.KernelConfig;
import dev.kextharness.kernel.kext.KextFindingError;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.sysctl.fixtures.EchoSysctlKext;
import dev.kextharness.kernel.sysctl.fixtures.NodeSysctlKext;
import dev.kextharness.kernel.user.UserProcess;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** sysctl from a kext: registration, OID_AUTO, the request's old/new buffers, and what unload leaves. */
class SysctlTest {

    private static Kernel boot(LeakPolicy policy) {
        return Kernel.boot(KernelConfig.defaults().withLeakPolicy(policy));
    }

    private static int[] mib(UserProcess p, String name) {
        int[] mib = new int[12];
        long[] size = {12};
        assertThat(p.sysctlnametomib(name, mib, size)).isZero();
        int[] out = new int[(int) size[0]];
        System.arraycopy(mib, 0, out, 0, out.length);
        return out;
    }

    @Test
    void oidAutoNumbersFrom101AndNameToMibFindsThem() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        kernel.kextload(EchoSysctlKext.class);
        UserProcess p = UserProcess.spawn(kernel, "sysctl");

        assertThat(mib(p, "debug.echo")).containsExactly(5, 101);
        assertThat(mib(p, "debug.echo_value")).containsExactly(5, 102);
        assertThat(p.sysctlnametomib("debug.nothing", new int[12], new long[]{12})).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.ENOENT);
    }

    @Test
    void theTwoCallPatternGetsTheSizeThenTheData() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        kernel.kextload(EchoSysctlKext.class);
        UserProcess p = UserProcess.spawn(kernel, "client");
        int[] name = {5, 101, 3, 4, 5};

        long[] len = {0};
        assertThat(p.sysctl(name, 5, null, len, null, 0)).isZero();
        assertThat(len[0]).isEqualTo(12);

        byte[] buf = new byte[(int) len[0]];
        assertThat(p.sysctl(name, 5, buf, len, null, 0)).isZero();
        ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new int[]{bb.getInt(), bb.getInt(), bb.getInt()}).containsExactly(6, 8, 10);

        byte[] small = new byte[4];
        long[] smallLen = {4};
        assertThat(p.sysctl(name, 5, small, smallLen, null, 0)).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.ENOMEM);
        assertThat(smallLen[0]).isEqualTo(8); // oldidx counts what the handler produced before it stopped
        assertThat(ByteBuffer.wrap(small).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(6);
    }

    @Test
    void sysctlHandleIntReadsAndWritesTheKextsCell() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        kernel.kextload(EchoSysctlKext.class);
        UserProcess p = UserProcess.spawn(kernel, "client");
        byte[] old = new byte[4];
        long[] len = {4};
        byte[] newValue = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(99).array();

        assertThat(p.sysctlbyname("debug.echo_value", old, len, newValue, 4)).isZero();
        assertThat(ByteBuffer.wrap(old).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(7);
        assertThat(p.sysctlbyname("debug.echo_value", old, len, null, 0)).isZero();
        assertThat(ByteBuffer.wrap(old).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(99);
        assertThat(p.sysctlbyname("debug.echo", null, new long[1], newValue, 4)).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.EPERM); // the node is read-only
    }

    @Test
    void walkErrorsAreXnus() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        UserProcess p = UserProcess.spawn(kernel, "client");
        assertThat(p.sysctl(new int[]{5}, 1, null, new long[1], null, 0)).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.EINVAL);
        assertThat(p.sysctl(new int[]{5, 999}, 2, null, new long[1], null, 0)).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.ENOENT);
        assertThat(p.sysctl(new int[]{1, 1, 7}, 3, null, new long[1], null, 0)).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.EISDIR);
        byte[] ostype = new byte[16];
        long[] len = {16};
        assertThat(p.sysctlbyname("kern.ostype", ostype, len, null, 0)).isZero();
        assertThat(new String(ostype, 0, (int) len[0] - 1)).isEqualTo("Darwin");
    }

    @Test
    void registeringTheSameOidTwicePanicsAtItsSlot() {
        Kernel kernel = boot(LeakPolicy.FAIL);

        assertThatThrownBy(() -> kernel.kextload(EchoSysctlKext.class, LoadOptions.defaults().withData(2)))
                .isInstanceOfSatisfying(KernelPanic.class, panic -> {
                    assertThat(panic.panicString())
                            .isEqualTo("attempting to register a sysctl at previously registered slot : 101");
                    assertThat(panic.panicLog()).contains(
                            "\"attempting to register a sysctl at previously registered slot : 101\"@")
                            .contains("kern_newsysctl.c");
                });
    }

    @Test
    void anOidLeftRegisteredIsAFindingAndCallingItPageFaults() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        LoadedKext kext = kernel.kextload(EchoSysctlKext.class, LoadOptions.defaults().withData(1));

        assertThatThrownBy(() -> kernel.kextunload(kext))
                .isInstanceOfSatisfying(KextFindingError.class, e -> {
                    assertThat(e.report().findings()).singleElement().satisfies(f -> {
                        assertThat(f.kind()).isEqualTo(Finding.Kind.LINGERING_REGISTRATION);
                        assertThat(f.message()).contains("sysctl debug.echo (5.101) is still registered")
                                .contains("sysctl_unregister_oid");
                        assertThat(f.site().function()).isEqualTo("sysctl_register_oid");
                    });
                });
        UserProcess p = UserProcess.spawn(kernel, "client");

        assertThatThrownBy(() -> p.sysctl(new int[]{5, 101, 1}, 3, null, new long[1], null, 0))
                .isInstanceOfSatisfying(KernelPanic.class, panic ->
                        assertThat(panic.panicString()).contains("type 14=page fault"));
    }

    @Test
    void aBalancedKextUnloadsCleanAndItsOidsAreGone() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        LoadedKext kext = kernel.kextload(EchoSysctlKext.class);
        kernel.kextunload(kext);

        assertThat(kernel.leakReport(kext).isClean()).isTrue();
        UserProcess p = UserProcess.spawn(kernel, "client");
        assertThat(p.sysctlbyname("debug.echo", null, new long[1], null, 0)).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.ENOENT);
    }

    @Test
    void aChildOfASysctlNodeIsFoundByNameAndByMib() {
        Kernel kernel = boot(LeakPolicy.FAIL);
        LoadedKext kext = kernel.kextload(NodeSysctlKext.class);
        UserProcess p = UserProcess.spawn(kernel, "client");

        int[] count = mib(p, "debug.widget.count");
        assertThat(count).containsExactly(5, 101, 101); // OID_AUTO numbers from 101 in each parent
        byte[] byName = new byte[4];
        long[] len = {4};
        assertThat(p.sysctlbyname("debug.widget.count", byName, len, null, 0)).isZero();
        assertThat(ByteBuffer.wrap(byName).order(ByteOrder.LITTLE_ENDIAN).getInt())
                .isEqualTo(NodeSysctlKext.INITIAL_COUNT);

        byte[] newValue = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(43).array();
        assertThat(p.sysctl(count, count.length, null, new long[1], newValue, 4)).isZero();
        byte[] byMib = new byte[4];
        assertThat(p.sysctl(count, count.length, byMib, new long[]{4}, null, 0)).isZero();
        assertThat(ByteBuffer.wrap(byMib).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(43);
        assertThat(p.sysctlbyname("debug.widget.count", byName, len, null, 0)).isZero();
        assertThat(ByteBuffer.wrap(byName).order(ByteOrder.LITTLE_ENDIAN).getInt()).isEqualTo(43);

        kernel.kextunload(kext);
        assertThat(kernel.leakReport(kext).isClean()).isTrue();
        assertThat(p.sysctlnametomib("debug.widget.count", new int[12], new long[]{12})).isEqualTo(-1);
        assertThat(p.errno()).isEqualTo(SysctlTree.ENOENT);
    }
}
