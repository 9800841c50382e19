package dev.kextharness.samples.iokit;

import dev.kextharness.junit.KextTest;
import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.report.ZprintOptions;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;
import org.mockito.InOrder;

import java.util.Arrays;
import java.util.List;

import static dev.kextharness.junit.KextAssertions.assertThat;
import static dev.kextharness.junit.KextAssertions.assertThatPanics;
import static dev.kextharness.samples.SourceLines.location;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.verifyNoInteractions;
import static org.mockito.Mockito.verifyNoMoreInteractions;

/** The XNU allocators article's leak walk: zprint's growing zone, ioalloccount, then the source. */
@KextTest(leakPolicy = LeakPolicy.PANIC)
class LeakyIOBufferDriverTest {
    private static final String ID = "dev.kextharness.samples.iobuffer";
    private static final int READS = 8;
    private static final int LENGTH = 1000;

    @Test
    void eachReadHandsTheClientTheDevicesBytes(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LeakyIOBufferDriver.class);
        IOBufferClient client = mock(IOBufferClient.class);

        int first = kext.service(IOBufferDriver.class).read(LENGTH, client);
        int second = kext.service(IOBufferDriver.class).read(16, client);

        assertThat(first).isEqualTo(IOBufferDriver.kIOReturnSuccess);
        assertThat(second).isEqualTo(IOBufferDriver.kIOReturnSuccess);
        ArgumentCaptor<byte[]> data = ArgumentCaptor.forClass(byte[].class);
        verify(client, times(2)).readCompleted(data.capture());
        verifyNoMoreInteractions(client);
        assertThat(data.getAllValues().get(0)).hasSize(LENGTH).containsOnly(1);
        assertThat(data.getAllValues().get(1)).hasSize(16).containsOnly(2);
        assertThatPanics(() -> kernel.kextunload(kext)).panicStringContains("2 allocations (1016 bytes)");
    }

    @Test
    void aBadLengthIsRefusedWithoutTouchingTheClientOrTheHeap(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LeakyIOBufferDriver.class);
        IOBufferClient client = mock(IOBufferClient.class);
        IOBufferDriver driver = kext.service(IOBufferDriver.class);

        assertThat(driver.read(0, client)).isEqualTo(IOBufferDriver.kIOReturnBadArgument);
        assertThat(driver.read(IOBufferDriver.MAX_TRANSFER + 1, client)).isEqualTo(IOBufferDriver.kIOReturnBadArgument);

        verifyNoInteractions(client);
        kernel.kextunload(kext);
        assertThat(kernel).hasNoLeaks();
    }

    @Test
    void zprintShowsTheBucketGrowingByOneElementPerRead(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LeakyIOBufferDriver.class);
        long before = curInuse(kernel, "kalloc.1024");

        readTimes(kext, READS, mock(IOBufferClient.class));

        assertThat(curInuse(kernel, "kalloc.1024")).isEqualTo(before + READS);
        String wired = kernel.zprint(ZprintOptions.defaults().withNameFilter("iobuffer"));
        assertThat(wired.lines()).anyMatch(line -> line.startsWith(String.format("%-64s%3d", ID + "[kalloc.1024]", kext.loadTag()))
                && line.endsWith(" 8K"));
        assertThatPanics(() -> kernel.kextunload(kext));
    }

    @Test
    void ioalloccountCountsTheBytesNeverIOFreed(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LeakyIOBufferDriver.class);
        assertThat(kernel.ioalloccount()).contains("   IOMalloc allocation = 0x00000000 =    0 K\n");

        readTimes(kext, READS, mock(IOBufferClient.class));

        // 8 x 1000 = 8000 = 0x1f40 bytes, 7 K.
        assertThat(kernel.ioalloccount()).contains("   IOMalloc allocation = 0x00001f40 =    7 K\n");
        assertThatPanics(() -> kernel.kextunload(kext));
    }

    @Test
    void unloadPanicsNamingTheIOMallocInRead(Kernel kernel) {
        LoadedKext kext = kernel.kextload(LeakyIOBufferDriver.class);
        readTimes(kext, READS, mock(IOBufferClient.class));

        String note = assertThatPanics(() -> kernel.kextunload(kext))
                .hasPanicString("KEXT LEAK: " + ID + ": 8 allocations (8000 bytes) outstanding at unload")
                .actual().harnessNote();

        assertThat(note).contains("8 allocations of 8000 bytes (8192 wired) in kalloc.1024, by IOMalloc\n"
                + "      at " + location(LeakyIOBufferDriver.class, "read", "long buffer = IOMalloc(length);") + "\n");
        assertThat(note).contains("fix: free it with IOFree before stop returns");
    }

    @Test
    void balancedTwinFreesEveryBufferEvenWhenTheClientThrows(Kernel kernel) {
        LoadedKext kext = kernel.kextload(BalancedIOBufferDriver.class);
        IOBufferClient client = mock(IOBufferClient.class);
        IOBufferDriver driver = kext.service(IOBufferDriver.class);

        readTimes(kext, READS, client);
        doThrow(new IllegalStateException("user client went away")).when(client).readCompleted(any());
        assertThatThrownBy(() -> driver.read(LENGTH, client)).hasMessage("user client went away");

        InOrder order = inOrder(client);
        for (int n = 1; n <= READS + 1; n++) {
            byte expected = (byte) n;
            order.verify(client).readCompleted(org.mockito.ArgumentMatchers.argThat(
                    data -> data.length == LENGTH && allEqual(data, expected)));
        }
        assertThat(kernel.ioalloccount()).contains("   IOMalloc allocation = 0x00000000 =    0 K\n");
        kernel.kextunload(kext);
        assertThat(kernel).hasNoLeaks();
    }

    private static void readTimes(LoadedKext kext, int times, IOBufferClient client) {
        IOBufferDriver driver = kext.service(IOBufferDriver.class);
        for (int i = 0; i < times; i++) {
            assertThat(driver.read(LENGTH, client)).isEqualTo(IOBufferDriver.kIOReturnSuccess);
        }
    }

    private static boolean allEqual(byte[] data, byte value) {
        byte[] expected = new byte[data.length];
        Arrays.fill(expected, value);
        return Arrays.equals(data, expected);
    }

    /** zprint's "cur inuse" column for one zone, read from zprint's own output. */
    private static long curInuse(Kernel kernel, String zone) {
        List<String> rows = kernel.zprint(ZprintOptions.defaults().withNameFilter(zone).withWiredReport(false))
                .lines().filter(line -> line.startsWith(zone + " ")).toList();
        assertThat(rows).hasSize(1);
        String[] columns = rows.get(0).trim().split("\\s+");
        return Long.parseLong(columns[6]);
    }
}
