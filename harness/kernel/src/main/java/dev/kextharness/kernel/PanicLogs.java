package dev.kextharness.kernel;

import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.CallSite;
import dev.kextharness.kernel.panic.PanicEvent;
import dev.kextharness.kernel.panic.PanicLog;
import dev.kextharness.kernel.panic.PanicReport;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.zalloc.Zone;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns a panic event into XNU's panic log for this kernel: the backtrace (with the kext whose
 * call led to the panic in it), the machine, the zprint section for zone panics and the loaded
 * kexts. Frame addresses are synthetic but stable: the same panic gives the same log.
 */
final class PanicLogs {
    private static final long STACK_TOP = 0xffffff90b627b6c0L;

    private PanicLogs() {
    }

    static String render(Kernel kernel, PanicEvent event) {
        long textBase = AddressSpace.KERNEL_TEXT_BASE_UNSLID + Kernel.KERNEL_SLIDE;
        LoadedKext culprit = culprit(kernel, event.site());
        CallSite site = event.site() >= 0 ? kernel.ledger().site(event.site()) : null;
        long kextPc = culprit == null ? 0 : culprit.address() + 0xd55 + (site == null ? 0 : (site.line() * 0x10L) % 0x1000);

        PanicReport.Builder b = PanicReport.builder()
                .cpu(0)
                .caller(!event.fromKernel() && culprit != null ? kextPc : textBase + 0x1729eb)
                .processName(kernel.currentProcess())
                .bootArgs(kernel.config().bootArgs())
                .osVersion(kernel.config().osVersion())
                .kernelVersion(kernel.config().kernelVersion())
                .kernelUuid(Kernel.KERNEL_UUID)
                .kernelSlide(Kernel.KERNEL_SLIDE)
                .kernelTextBase(textBase)
                .hibTextBase(AddressSpace.HIB_TEXT_BASE_UNSLID + Kernel.KERNEL_SLIDE)
                .systemModel(kernel.config().systemModel())
                .uptimeNanos(kernel.uptimeNanos());
        if (event.file() != null) {
            b.kernelPanic(event.panicString(), event.file(), event.line());
        } else {
            b.kextPanic(event.panicString());
        }

        List<PanicReport.Frame> frames = new ArrayList<>();
        long fp = STACK_TOP;
        frames.add(new PanicReport.Frame(fp, textBase + 0x230c64));
        if (culprit != null) {
            for (int i = 0; i < 3; i++) {
                fp += 0x20 + i * 0x10;
                frames.add(new PanicReport.Frame(fp + 0x4a0, kextPc + i * 0x59));
            }
            b.backtraceKext(new PanicReport.BacktraceKext(culprit.bundleId(), culprit.version(), culprit.uuid(),
                    culprit.address(), culprit.size(), List.of()));
        }
        long[] kernelReturns = {0x7ffedf, 0x7fd7da, 0x806bfe, 0x80c7e4, 0x81bcfc, 0x28bd15, 0x2361cc, 0x20d19c, 0x226057,
                0x36db7d, 0x1d9db6};
        for (long r : kernelReturns) {
            fp += 0x40;
            frames.add(new PanicReport.Frame(fp + 0x4a0, textBase + r));
        }
        b.backtrace(frames);

        if (event.includeZprint()) {
            List<PanicReport.ZoneUsage> zones = new ArrayList<>();
            for (Zone zone : kernel.zalloc().zones()) {
                if (zone.curSize() > (1L << 20)) {
                    zones.add(new PanicReport.ZoneUsage(zone.name(), zone.curSize(), zone.freeBytes()));
                }
            }
            b.zprint(new PanicReport.ZprintSection(zones, 0x2d8c000L, 0x1f3a000L, kernel.kalloc().largeTotal(), List.of()));
        }

        b.lastLoaded(kernel.kexts().lastLoaded());
        b.lastUnloaded(kernel.kexts().lastUnloaded());
        for (LoadedKext kext : kernel.loadedKexts()) {
            b.loadedKext(kext.bundleId(), kext.version(), false);
        }
        return PanicLog.render(b.build());
    }

    private static LoadedKext culprit(Kernel kernel, int site) {
        if (site < 0) {
            return null;
        }
        int tag = kernel.ledger().loadTag(site);
        if (tag == 0) {
            return null;
        }
        for (LoadedKext kext : kernel.kexts().all()) {
            if (kext.loadTag() == tag) {
                return kext;
            }
        }
        return null;
    }
}
