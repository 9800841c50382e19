package dev.kextharness.kernel;

import dev.kextharness.kernel.iokit.IOKitAllocators;
import dev.kextharness.kernel.jetsam.Memorystatus;
import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.kext.KextLeakError;
import dev.kextharness.kernel.kext.KextManager;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.log.KernelLog;
import dev.kextharness.kernel.malloc.BsdMalloc;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.PanicEvent;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.report.IoAllocCount;
import dev.kextharness.kernel.report.Kextstat;
import dev.kextharness.kernel.report.WiredSite;
import dev.kextharness.kernel.report.ZoneRow;
import dev.kextharness.kernel.report.Zprint;
import dev.kextharness.kernel.report.ZprintOptions;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;
import dev.kextharness.kpi.Kext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A simulated XNU kernel (Catalina, xnu-6153). {@link #boot} brings the subsystems up in the order
 * of the constructor below, which reads as the kernel's boot sequence; afterwards kexts are
 * loaded with {@link #kextload}, and every allocation they make is tracked to its call site.
 *
 * <p>A kernel is confined to one thread at a time (kexts create threads only through the KPI,
 * and the link step refuses {@code java.lang.Thread}); run many kernels in parallel instead, one
 * per test. After a panic the kernel refuses every call.
 *
 * <p>Stability: stable for the methods documented as such; accessors of subsystems are for the
 * harness's own modules.
 */
public final class Kernel implements AutoCloseable {
    /** Bundle identifier the kernel's own call sites are attributed to (load tag 0). */
    public static final String KERNEL_BUNDLE_ID = "__kernel__";
    /** Unslid-to-slid offset used for every boot (the seed article's kernel slide). */
    public static final long KERNEL_SLIDE = 0x000000001d400000L;
    /** The kernel's UUID, printed by kextstat (load tag 0) and panic logs. */
    public static final String KERNEL_UUID = "B8B972B8-220D-3E56-92F8-ADB8CF777CE2";

    private final KernelConfig config;
    private long uptimeNanos = 10_000_000_000L;
    private final KernelLog log;
    private final Panicker panicker;
    private final Ledger ledger;
    private final SparseMemory memory;
    private final VmMap kernelMap;
    private final VmMap kallocMap;
    private final Zalloc zalloc;
    private final Kalloc kalloc;
    private final BsdMalloc malloc;
    private final OSMallocTags osmalloc;
    private final IOKitAllocators iokit;
    private final Memorystatus memorystatus;
    private final Map<Integer, List<Long>> procMemory = new HashMap<>();
    private final int procSite;
    private final KextManager kexts;
    private final Map<Integer, LeakReport> reports = new HashMap<>();
    /** The BSD process whose thread is in the kernel now, for panic logs. */
    private String currentProcess = "kernel_task";

    private Kernel(KernelConfig config) {
        this.config = config;
        long ram = config.physicalMemory();

        // Console and panic first, so that everything after can log and die properly.
        log = new KernelLog(() -> uptimeNanos);
        panicker = new Panicker();
        ledger = new Ledger(config.findings());

        // vm_mem_bootstrap: the zone map is sized from RAM (or the zsize boot-arg), kalloc_map is 1/32 of RAM.
        long zoneMapCapacity = config.zoneMapSize() > 0
                ? Zalloc.zoneMapCapacityFor(ram, config.zoneMapSize())
                : Zalloc.zoneMapCapacityFor(ram);
        memory = new SparseMemory(AddressSpace.ZONE_MAP_BASE, AddressSpace.ZONE_MAP_BASE + zoneMapCapacity);
        kallocMap = new VmMap("kalloc_map", 0xffffff801f8a2d40L, AddressSpace.KALLOC_MAP_BASE,
                AddressSpace.KALLOC_MAP_BASE + Kalloc.kallocMapSize(ram), Kalloc.kallocMapSize(ram));
        kernelMap = new VmMap("kernel_map", 0xffffff801f8a2c60L, AddressSpace.KERNEL_MAP_BASE,
                AddressSpace.KERNEL_MAP_END, AddressSpace.KERNEL_MAP_END - AddressSpace.KERNEL_MAP_BASE);

        // zone_init, then kalloc_init: the 27 kalloc.N zones.
        zalloc = new Zalloc(zoneMapCapacity, memory, ledger, panicker, config.jetsamLimitPercent(), config.bootSeed());
        memory.setPageObserver(zalloc::touched);
        kalloc = new Kalloc(zalloc, kallocMap, kernelMap, memory, ledger, panicker, ram, log);

        // The allocators kexts call: BSD _MALLOC, libkern OSMalloc, IOKit's IOMalloc family.
        malloc = new BsdMalloc(kalloc, zalloc, memory, panicker);
        int tagFreeSite = kernelSite("OSMalloc_Tagfree", "OSMalloc_Tagrele");
        osmalloc = new OSMallocTags(kalloc, kernelMap, memory, ledger, panicker, tagFreeSite);
        iokit = new IOKitAllocators(kalloc, kernelMap, memory, ledger, panicker);

        // bsd_init: launchd and the first processes, each holding some kernel memory; memorystatus
        // kills them when the zone map passes its jetsam limit.
        memorystatus = new Memorystatus(log, () -> uptimeNanos, this::availablePages);
        procSite = kernelSite("kernel", "proc_alloc");
        for (Memorystatus.Proc proc : Memorystatus.catalinaBootProcesses()) {
            spawn(proc);
        }
        memorystatus.setOnKill(this::reapProcess);
        zalloc.setPressureHandler(z -> killProcessInLargestZone());

        // OSKext: the kernel is load tag 0; kexts are linked and tracked from here on.
        kexts = new KextManager(this);
        panicker.attach(new PanicContext());
    }

    /** Boots a kernel with the default configuration (a 32 GiB Catalina Mac). Stable. */
    public static Kernel boot() {
        return new Kernel(KernelConfig.defaults());
    }

    /** Boots a kernel. Stable. */
    public static Kernel boot(KernelConfig config) {
        return new Kernel(config);
    }

    // ---------------------------------------------------------------------------------------------
    // Kexts (stable API)

    /** Loads, links and starts a kext. Stable. */
    public LoadedKext kextload(Class<? extends Kext> kextClass) {
        return kextload(kextClass, LoadOptions.defaults());
    }

    /** Loads, links and starts a kext with options (a leak policy of its own, start data). Stable. */
    public LoadedKext kextload(Class<? extends Kext> kextClass, LoadOptions options) {
        checkAlive();
        String previous = currentProcess;
        currentProcess = "kextload";
        try {
            return kexts.load(kextClass, options);
        } finally {
            currentProcess = previous;
        }
    }

    /** Stops and unloads a kext, then judges what it left behind. Stable. */
    public void kextunload(LoadedKext kext) {
        checkAlive();
        String previous = currentProcess;
        currentProcess = "kextunload";
        try {
            kexts.unload(kext);
        } finally {
            currentProcess = previous;
        }
    }

    /** Loaded kexts, in load order. Stable. */
    public List<LoadedKext> loadedKexts() {
        return kexts.loaded();
    }

    /** Unloads every loaded kext, dependents first (what the JUnit extension does after a test). */
    public void unloadAll() {
        List<LoadedKext> loaded = new ArrayList<>(kexts.loaded());
        for (int i = loaded.size() - 1; i >= 0; i--) {
            if (loaded.get(i).isLoaded()) {
                kextunload(loaded.get(i));
            }
        }
    }

    /**
     * Decides what an unloaded kext left behind, under its leak policy: panic, fail, or XNU's
     * silence. Called by the kext manager after a successful stop or a failed start.
     */
    public void judgeUnload(LoadedKext kext, boolean startFailed) {
        LeakReport report = new LeakReport(kext.bundleId(), snapshotOfKext(kext.loadTag()),
                ledger.findingsOfKext(kext.loadTag()));
        reports.put(kext.loadTag(), report);
        if (report.isClean()) {
            return;
        }
        LeakPolicy policy = kext.options().leakPolicy() != null ? kext.options().leakPolicy() : config.leakPolicy();
        switch (policy) {
            case XNU -> { }
            case FAIL -> throw new KextLeakError(report);
            case PANIC -> {
                int site = report.hasLeaks() ? report.outstanding().groups().get(0).site().id()
                        : report.findings().get(0).site().id();
                throw panicker.harness(site, report.headline(), (startFailed ? "the kext's start failed; " : "")
                        + "XNU does not judge a kext at unload: it would unload it and leave the memory where it is "
                        + "(LeakPolicy.XNU). The harness panics under LeakPolicy.PANIC. Report:\n" + report.render());
            }
            default -> throw new IllegalStateException("unknown leak policy " + policy);
        }
    }

    /** The verdict of the last unload of this kext, or null if it has not unloaded. Stable. */
    public LeakReport leakReport(LoadedKext kext) {
        return reports.get(kext.loadTag());
    }

    // ---------------------------------------------------------------------------------------------
    // Observation (stable API)

    /** Everything live in the kernel now, grouped by call site, zone and tag. Stable. */
    public LedgerSnapshot snapshot() {
        LedgerSnapshot.Builder builder = new LedgerSnapshot.Builder();
        zalloc.forEachLive((zone, addr, site, requested, aux) ->
                builder.add(ledger.site(site), zone.name(), tagName(site, aux), requested, zone.elemSize(), addr));
        for (VmMap map : new VmMap[]{kallocMap, kernelMap}) {
            for (VmMap.Entry e : map.entries()) {
                if (e.kind != VmMap.Kind.KEXT && e.site >= 0) {
                    builder.add(ledger.site(e.site), map.name(), tagName(e.site, e.aux), e.requested, e.size, e.start);
                }
            }
        }
        return builder.build();
    }

    /**
     * What the kext with this load tag holds now. The ledger's per-site counters say at once
     * whether it holds anything, so a kext that freed everything costs no walk over the kernel's
     * live elements. Stable.
     */
    public LedgerSnapshot snapshotOfKext(int loadTag) {
        if (ledger.counting() && ledger.liveCountOfKext(loadTag) == 0) {
            return LedgerSnapshot.empty();
        }
        return snapshot().kext(loadTag);
    }

    private String tagName(int site, long aux) {
        return switch (ledger.site(site).family()) {
            case OSMALLOC -> aux == 0 ? null : osmalloc.name(aux);
            default -> null;
        };
    }

    /** zprint's zone rows for this kernel (Catalina's {@code mach_zone_info} view). */
    public List<ZoneRow> zoneRows() {
        List<ZoneRow> rows = new ArrayList<>();
        for (Zone zone : zalloc.zones()) {
            rows.add(new ZoneRow(zone.name(), zone.elemSize(), zone.curSize(), zone.maxSize(), zone.count(),
                    zone.allocSize(), zone.totalAllocations() * zone.elemSize(), zone.freeBytes(), zone.exhaustible(),
                    zone.collectable()));
        }
        return rows;
    }

    /** {@code zprint} in Catalina's layout, with the wired-memory report naming each kext's live bytes. Stable. */
    public String zprint(ZprintOptions options) {
        Map<String, long[]> perKext = new java.util.LinkedHashMap<>();
        for (LedgerSnapshot.Group g : snapshot().groups()) {
            if (g.site().loadTag() != 0) {
                perKext.computeIfAbsent(g.site().bundleId(), k -> new long[]{g.site().loadTag(), 0})[1] += g.wiredBytes();
            }
        }
        List<WiredSite> sites = new ArrayList<>();
        perKext.forEach((id, v) -> sites.add(WiredSite.kext(id, (int) v[0], v[1])));
        return Zprint.render(zoneRows(), sites, config.physicalMemory() - (availablePages() << AddressSpace.PAGE_SHIFT), options);
    }

    /** {@code ioalloccount}'s four lines. Stable. */
    public String ioalloccount() {
        return IoAllocCount.render(iokit.instanceAllocation(), iokit.containerAllocation(), iokit.iomallocAllocation(),
                iokit.pageableAllocation());
    }

    /** {@code kextstat} for the kernel and the loaded kexts. Stable. */
    public String kextstat() {
        return Kextstat.render(kexts.kextstatRows());
    }

    /** The kernel log (msgbuf). Stable. */
    public KernelLog log() {
        return log;
    }

    /** The panic this kernel died of, or null. Stable. */
    public KernelPanic panic() {
        return panicker.panic();
    }

    public boolean panicked() {
        return panicker.panicked();
    }

    /** Throws if the kernel has panicked. */
    public void checkAlive() {
        panicker.checkAlive();
    }

    public KernelConfig config() {
        return config;
    }

    /** The BSD process name of the thread in the kernel now ({@code kextload}, {@code kextunload}, ...). */
    public String currentProcess() {
        return currentProcess;
    }

    /** Simulated uptime in nanoseconds. */
    public long uptimeNanos() {
        return uptimeNanos;
    }

    /** Moves the simulated clock forward. */
    public void advanceClock(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("the clock only moves forward, not by " + nanos + " ns");
        }
        uptimeNanos += nanos;
    }

    // ---------------------------------------------------------------------------------------------
    // Subsystems, for the harness's own modules

    public Ledger ledger() {
        return ledger;
    }

    public Panicker panicker() {
        return panicker;
    }

    public SparseMemory memory() {
        return memory;
    }

    public Zalloc zalloc() {
        return zalloc;
    }

    public Kalloc kalloc() {
        return kalloc;
    }

    public BsdMalloc malloc() {
        return malloc;
    }

    public OSMallocTags osmalloc() {
        return osmalloc;
    }

    public IOKitAllocators iokit() {
        return iokit;
    }

    public Memorystatus memorystatus() {
        return memorystatus;
    }

    public VmMap kernelMap() {
        return kernelMap;
    }

    public VmMap kallocMap() {
        return kallocMap;
    }

    public KextManager kexts() {
        return kexts;
    }

    /** Registers a call site of the kernel itself (load tag 0). */
    public int kernelSite(String function, String where) {
        return ledger.register(0, KERNEL_BUNDLE_ID, function, "xnu", where, null, -1);
    }

    // ---------------------------------------------------------------------------------------------
    // Processes and jetsam

    /** Starts a simulated process holding kernel memory in proportion to its footprint. */
    public void spawn(Memorystatus.Proc proc) {
        List<Long> held = new ArrayList<>();
        long elements = Math.max(1, proc.footprintBytes() >>> 22);
        for (long i = 0; i < elements; i++) {
            held.add(kalloc.kalloc(4096, true, procSite));
        }
        procMemory.put(proc.pid(), held);
        memorystatus.spawn(proc);
    }

    private void reapProcess(Memorystatus.Proc proc) {
        List<Long> held = procMemory.remove(proc.pid());
        if (held != null) {
            for (long addr : held) {
                kalloc.kfree(addr, 4096, procSite);
            }
        }
    }

    private long availablePages() {
        return Math.max(0, (config.physicalMemory() - zalloc.zoneMapSize() - kalloc.largeTotal()) >>> AddressSpace.PAGE_SHIFT);
    }

    /** {@code kill_process_in_largest_zone()}: what the pageout GC thread does past the jetsam limit. */
    private void killProcessInLargestZone() {
        zalloc.zoneGc();
        Zone largest = zalloc.largestZone();
        log.printf(CFormat.format("zone_map_exhaustion: Zone map size %lld, capacity %lld [jetsam limit %d%%]",
                zalloc.zoneMapSize(), zalloc.zoneMapCapacity(), zalloc.jetsamLimitPercent()));
        log.printf(CFormat.format("zone_map_exhaustion: Largest zone %s, size %lu", largest.name(), largest.curSize()));
        log.printf(CFormat.format("zone_map_exhaustion: Nothing to do for the largest zone [%s]. Waking up memorystatus thread.",
                largest.name()));
        if (memorystatus.killOne("highwater") == null) {
            log.printf(CFormat.format("zone_map_exhaustion: Call to memorystatus failed, victim pid: %d", -1));
        }
    }

    @Override
    public void close() {
        // Nothing outside the JVM heap is held; closing marks the end of a test's kernel.
    }

    /** What the panicker asks of the kernel to finish a panic. */
    private final class PanicContext implements Panicker.Context {
        @Override
        public String renderLog(PanicEvent event) {
            return PanicLogs.render(Kernel.this, event);
        }

        @Override
        public LedgerSnapshot snapshot() {
            return Kernel.this.snapshot();
        }
    }
}
