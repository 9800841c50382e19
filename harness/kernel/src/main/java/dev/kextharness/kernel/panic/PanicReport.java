package dev.kextharness.kernel.panic;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What a panic log says, as immutable data for {@link PanicLog}: the panic string, the
 * backtrace, the system configuration and the kext lists of an x86_64 xnu-6153 panic. Build one
 * with {@link #builder()}. Optional parts follow the kernel's own rules: a null or empty string,
 * or a zero slide, means the kernel had nothing to print there (see {@link PanicLog}).
 *
 * @param cpu             the CPU that panicked
 * @param caller          the return address of the {@code panic()} call
 * @param message         the formatted panic string, without the quotes a kernel panic adds
 * @param sourceFile      for a panic raised by xnu itself, the source path of {@code @file:line};
 *                        null for a kext calling the exported {@code panic()}
 * @param sourceLine      the line of {@code @file:line}
 * @param backtrace       the frames from the panicking frame outwards
 * @param backtraceKexts  the kexts holding a return address of the backtrace, in load order
 * @param processName     the current thread's BSD process ({@code p_comm}); null for "Unknown"
 * @param bootArgs        the boot arguments; null or empty prints no line
 * @param osVersion       the OS build, e.g. {@code 19G73}; null for "Not yet set"
 * @param kernelVersion   the kernel version string
 * @param kernelUuid      the kernel UUID; null or empty prints no line
 * @param kernelSlide     the KASLR slide; 0 prints neither the slide nor the text base
 * @param kernelTextBase  the slid kernel text base
 * @param hibTextBase     the slid {@code __HIB} text base
 * @param systemModel     the model name, e.g. {@code MacBookPro15,1 (Mac-...)}; null or empty: no line
 * @param rootDiskErrors  the root disk error description; null prints no line
 * @param shutdownBegun   whether shutdown had begun; null omits the line (pre-10.13 logs, such
 *                        as the seed article's 10.12 log, have none)
 * @param panicDiags      the panic-diags file line; null omits it (the file is disabled)
 * @param uptimeNanos     the uptime in nanoseconds
 * @param zprint          the zone summary a zone-map panic adds; null for none
 * @param zleak           the zleaks suspect backtrace; null for none
 * @param lastLoaded      the last kext loaded; null if none was
 * @param lastUnloaded    the last kext unloaded; null if none was
 * @param loadedKexts     the loaded kexts (kernel components excluded) in load order
 *
 * <p>Stability: stable.
 */
public record PanicReport(
        int cpu,
        long caller,
        String message,
        String sourceFile,
        int sourceLine,
        List<Frame> backtrace,
        List<BacktraceKext> backtraceKexts,
        String processName,
        String bootArgs,
        String osVersion,
        String kernelVersion,
        String kernelUuid,
        long kernelSlide,
        long kernelTextBase,
        long hibTextBase,
        String systemModel,
        String rootDiskErrors,
        Boolean shutdownBegun,
        PanicDiags panicDiags,
        long uptimeNanos,
        ZprintSection zprint,
        ZleakTrace zleak,
        KextEvent lastLoaded,
        KextEvent lastUnloaded,
        List<LoadedKext> loadedKexts) {

    /** Where xnu-6153.141.1's sources were built; {@code __FILE__} of a kernel panic starts here. */
    public static final String XNU_6153_SOURCES =
            "/AppleInternal/BuildRoot/Library/Caches/com.apple.xbs/Sources/xnu/xnu-6153.141.1/";

    public PanicReport {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(kernelVersion, "kernelVersion");
        backtrace = List.copyOf(backtrace);
        backtraceKexts = List.copyOf(backtraceKexts);
        loadedKexts = List.copyOf(loadedKexts);
    }

    /** Whether xnu raised the panic (quoted message and {@code @file:line}), not a kext. */
    public boolean fromKernel() {
        return sourceFile != null;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** One backtrace line: the frame pointer and the return address saved in that frame. */
    public record Frame(long framePointer, long returnAddress) {
    }

    /**
     * A kext in the backtrace, from its loaded-kext summary.
     *
     * @param bundleId     the bundle identifier
     * @param version      the version as the kernel prints it back (e.g. {@code 1.0})
     * @param uuid         the executable's UUID, upper-case
     * @param address      the load address
     * @param size         the loaded size in bytes; the line shows {@code address + size - 1}
     * @param dependencies the kexts it links against, in its reference-list order
     */
    public record BacktraceKext(String bundleId, String version, String uuid, long address, long size,
            List<Dependency> dependencies) {

        public BacktraceKext {
            Objects.requireNonNull(bundleId, "bundleId");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(uuid, "uuid");
            dependencies = List.copyOf(dependencies);
        }
    }

    /**
     * A dependency of a kext in the backtrace. Built-in kernel components have address 0 and
     * are skipped, as the kernel skips them.
     *
     * @param uuid the UUID found among the loaded-kext summaries, or "" if none
     */
    public record Dependency(String bundleId, String version, String uuid, long address) {

        public Dependency {
            Objects.requireNonNull(bundleId, "bundleId");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(uuid, "uuid");
        }
    }

    /**
     * The "Panic diags file" line: {@code available: YES/NO (0x%x)} once the core file was set
     * up, or the "unavailable" line if the panic came before that.
     *
     * @param initialized whether the polled core file was initialized
     * @param openResult  the IOReturn of opening it; 0 prints YES
     */
    public record PanicDiags(boolean initialized, int openResult) {

        public static PanicDiags available() {
            return new PanicDiags(true, 0);
        }

        public static PanicDiags openFailed(int ioReturn) {
            return new PanicDiags(true, ioReturn);
        }

        public static PanicDiags uninitialized() {
            return new PanicDiags(false, 0);
        }
    }

    /**
     * The zone summary a zone panic prints ({@code panic_include_zprint}). The renderer keeps
     * only zones above 1 MiB and kmods above 1 MiB, as the kernel does.
     *
     * @param zones        every zone, in the kernel's order
     * @param kernelStacks bytes of kernel stacks
     * @param pageTables   bytes of page tables
     * @param kallocLarge  bytes of kalloc allocations too large for a zone
     * @param kmods        per-kext wired sizes; null when the kernel had none to print
     */
    public record ZprintSection(List<ZoneUsage> zones, long kernelStacks, long pageTables, long kallocLarge,
            List<KmodUsage> kmods) {

        public ZprintSection {
            zones = List.copyOf(zones);
            kmods = kmods == null ? null : List.copyOf(kmods);
        }
    }

    /** A zone's size and free bytes ({@code countfree * elem_size}) for the zprint section. */
    public record ZoneUsage(String name, long curSize, long freeSize) {

        public ZoneUsage {
            Objects.requireNonNull(name, "name");
        }
    }

    /** A kext's wired bytes for the zprint section's {@code Kmod} list. */
    public record KmodUsage(long loadTag, long size) {
    }

    /**
     * The zleaks suspect: outstanding bytes of the top backtrace, its return addresses (at most
     * 15 are printed) and the kexts among them.
     */
    public record ZleakTrace(long outstandingBytes, List<Long> stack, List<BacktraceKext> kexts) {

        public ZleakTrace {
            stack = List.copyOf(stack);
            kexts = List.copyOf(kexts);
        }
    }

    /**
     * The last kext loaded or unloaded.
     *
     * @param timestamp when, in absolute-time units
     */
    public record KextEvent(long timestamp, String bundleId, String version, long address, long size) {

        public KextEvent {
            Objects.requireNonNull(bundleId, "bundleId");
            Objects.requireNonNull(version, "version");
        }
    }

    /**
     * A loaded kext for the "loaded kexts:" list.
     *
     * @param library whether it is a library kext (declares a compatible version)
     */
    public record LoadedKext(String bundleId, String version, boolean library) {

        public LoadedKext {
            Objects.requireNonNull(bundleId, "bundleId");
            Objects.requireNonNull(version, "version");
        }
    }

    /**
     * Collects a {@link PanicReport}. Unset parts are absent: no frames, no kexts, and the
     * kernel's "not set" values for strings.
     */
    public static final class Builder {
        private int cpu;
        private long caller;
        private String message = "";
        private String sourceFile;
        private int sourceLine;
        private final List<Frame> backtrace = new ArrayList<>();
        private final List<BacktraceKext> backtraceKexts = new ArrayList<>();
        private String processName;
        private String bootArgs;
        private String osVersion;
        private String kernelVersion = "";
        private String kernelUuid;
        private long kernelSlide;
        private long kernelTextBase;
        private long hibTextBase;
        private String systemModel;
        private String rootDiskErrors;
        private Boolean shutdownBegun;
        private PanicDiags panicDiags;
        private long uptimeNanos;
        private ZprintSection zprint;
        private ZleakTrace zleak;
        private KextEvent lastLoaded;
        private KextEvent lastUnloaded;
        private final List<LoadedKext> loadedKexts = new ArrayList<>();

        private Builder() {
        }

        public Builder cpu(int value) {
            cpu = value;
            return this;
        }

        public Builder caller(long value) {
            caller = value;
            return this;
        }

        /** A panic raised by xnu: {@code "message"@file:line}. */
        public Builder kernelPanic(String formattedMessage, String file, int line) {
            message = formattedMessage;
            sourceFile = Objects.requireNonNull(file, "file");
            sourceLine = line;
            return this;
        }

        /**
         * A panic without the macro's quotes and location: a kext's own {@code panic()}, or xnu's
         * where the macro is undefined (the kernel-trap panic); the message as formatted.
         */
        public Builder kextPanic(String formattedMessage) {
            message = formattedMessage;
            sourceFile = null;
            sourceLine = 0;
            return this;
        }

        public Builder frame(long framePointer, long returnAddress) {
            backtrace.add(new Frame(framePointer, returnAddress));
            return this;
        }

        public Builder backtrace(List<Frame> frames) {
            backtrace.clear();
            backtrace.addAll(frames);
            return this;
        }

        public Builder backtraceKext(BacktraceKext kext) {
            backtraceKexts.add(Objects.requireNonNull(kext, "kext"));
            return this;
        }

        public Builder processName(String value) {
            processName = value;
            return this;
        }

        public Builder bootArgs(String value) {
            bootArgs = value;
            return this;
        }

        public Builder osVersion(String value) {
            osVersion = value;
            return this;
        }

        public Builder kernelVersion(String value) {
            kernelVersion = value;
            return this;
        }

        public Builder kernelUuid(String value) {
            kernelUuid = value;
            return this;
        }

        public Builder kernelSlide(long value) {
            kernelSlide = value;
            return this;
        }

        public Builder kernelTextBase(long value) {
            kernelTextBase = value;
            return this;
        }

        public Builder hibTextBase(long value) {
            hibTextBase = value;
            return this;
        }

        public Builder systemModel(String value) {
            systemModel = value;
            return this;
        }

        public Builder rootDiskErrors(String value) {
            rootDiskErrors = value;
            return this;
        }

        public Builder shutdownBegun(Boolean value) {
            shutdownBegun = value;
            return this;
        }

        public Builder panicDiags(PanicDiags value) {
            panicDiags = value;
            return this;
        }

        public Builder uptimeNanos(long value) {
            uptimeNanos = value;
            return this;
        }

        public Builder zprint(ZprintSection value) {
            zprint = value;
            return this;
        }

        public Builder zleak(ZleakTrace value) {
            zleak = value;
            return this;
        }

        public Builder lastLoaded(KextEvent value) {
            lastLoaded = value;
            return this;
        }

        public Builder lastUnloaded(KextEvent value) {
            lastUnloaded = value;
            return this;
        }

        public Builder loadedKext(String bundleId, String version, boolean library) {
            loadedKexts.add(new LoadedKext(bundleId, version, library));
            return this;
        }

        public Builder loadedKexts(List<LoadedKext> kexts) {
            loadedKexts.clear();
            loadedKexts.addAll(kexts);
            return this;
        }

        public PanicReport build() {
            return new PanicReport(cpu, caller, message, sourceFile, sourceLine, backtrace, backtraceKexts,
                    processName, bootArgs, osVersion, kernelVersion, kernelUuid, kernelSlide, kernelTextBase,
                    hibTextBase, systemModel, rootDiskErrors, shutdownBegun, panicDiags, uptimeNanos, zprint,
                    zleak, lastLoaded, lastUnloaded, loadedKexts);
        }
    }
}
