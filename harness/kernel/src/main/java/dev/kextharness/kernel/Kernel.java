package dev.kextharness.kernel;

import dev.kextharness.kernel.cpu.Cpus;
import dev.kextharness.kernel.fault.FaultInjector;
import dev.kextharness.kernel.fault.FaultPlan;
import dev.kextharness.kernel.iokit.IOKitAllocators;
import dev.kextharness.kernel.ipc.BootPorts;
import dev.kextharness.kernel.ipc.Ipc;
import dev.kextharness.kernel.ipc.KextPortRights;
import dev.kextharness.kernel.ipc.PortCensus;
import dev.kextharness.kernel.ipc.Task;
import dev.kextharness.kernel.jetsam.Memorystatus;
import dev.kextharness.kernel.kalloc.Kalloc;
import dev.kextharness.kernel.kext.KextHost;
import dev.kextharness.kernel.kext.KextVerdictError;
import dev.kextharness.kernel.kext.KextManager;
import dev.kextharness.kernel.kext.LeakPolicy;
import dev.kextharness.kernel.kext.LoadOptions;
import dev.kextharness.kernel.kext.LoadedKext;
import dev.kextharness.kernel.ledger.Family;
import dev.kextharness.kernel.ledger.Finding;
import dev.kextharness.kernel.ledger.HeldPortRight;
import dev.kextharness.kernel.ledger.LeakReport;
import dev.kextharness.kernel.ledger.Ledger;
import dev.kextharness.kernel.ledger.LedgerSnapshot;
import dev.kextharness.kernel.ledger.Suppressions;
import dev.kextharness.kernel.log.KernelLog;
import dev.kextharness.kernel.malloc.BsdMalloc;
import dev.kextharness.kernel.osmalloc.OSMallocTags;
import dev.kextharness.kernel.panic.KernelPanic;
import dev.kextharness.kernel.panic.PanicEvent;
import dev.kextharness.kernel.panic.Panicker;
import dev.kextharness.kernel.printf.CFormat;
import dev.kextharness.kernel.report.IoAllocCount;
import dev.kextharness.kernel.report.KextRow;
import dev.kextharness.kernel.report.Kextstat;
import dev.kextharness.kernel.report.WiredSite;
import dev.kextharness.kernel.report.ZoneRow;
import dev.kextharness.kernel.report.Zprint;
import dev.kextharness.kernel.report.ZprintOptions;
import dev.kextharness.kernel.sysctl.SysctlTree;
import dev.kextharness.kernel.vm.AddressSpace;
import dev.kextharness.kernel.vm.SparseMemory;
import dev.kextharness.kernel.vm.VmMap;
import dev.kextharness.kernel.zalloc.Zalloc;
import dev.kextharness.kernel.zalloc.Zone;
import dev.kextharness.kpi.Kext;
import org.apiguardian.api.API;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A simulated XNU kernel (Catalina, xnu-6153). {@link #boot} brings the subsystems up in the order
 * of the constructor below, which reads as the kernel's boot sequence; afterwards kexts are
 * loaded with {@link #kextload}, and every allocation they make is tracked to its call site.
 *
 * <p>Any number of threads may call into one kernel at once, as real kext code is called from
 * many threads (a network filter, a driver's user clients): each call into the allocators runs
 * on one of the kernel's simulated CPUs ({@link KernelConfig#cpus()}), with Catalina's per-CPU
 * zone caches (zcache) and no shared lock on the fast path; zones, maps, the ledger, the kext
 * manager, the log, IPC and sysctl are safe under contention, and the ledger's counts stay
 * exact. Kexts themselves still create no threads (the link step refuses {@code java.lang.Thread}):
 * the threads are the test's. Kernels share nothing, so many run in parallel too, one per test.
 * After a panic the kernel refuses every call.
 *
 * <p>The stable API is what a test needs: boot, kextload/kextunload, snapshots, reports, the log
 * and the panic. Accessors of subsystems are {@link API.Status#INTERNAL}: for the harness's own
 * modules, and free to change.
 */
@API(status = API.Status.STABLE, since = "0.1")
public final class Kernel implements AutoCloseable {
    /** Bundle identifier the kernel's own call sites are attributed to (load tag 0). */
    public static final String KERNEL_BUNDLE_ID = "__kernel__";
    /** Unslid-to-slid offset used for every boot (the seed article's kernel slide). */
    public static final long KERNEL_SLIDE = 0x000000001d400000L;
    /** The kernel's UUID, printed by kextstat (load tag 0) and panic logs. */
    public static final String KERNEL_UUID = "B8B972B8-220D-3E56-92F8-ADB8CF777CE2";
    /** The size of the kernel's own executable, for its kextstat row (tag 0); kextstat itself never prints it. */
    private static final long KERNEL_TEXT_SIZE = 0x1ccb000L;
    private static final Pattern OSRELEASE = Pattern.compile("Darwin Kernel Version ([0-9.]+)");

    private final KernelConfig config;
    private volatile long uptimeNanos = 10_000_000_000L;
    private final Cpus cpus;
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
    private final Ipc ipc;
    private final SysctlTree sysctl;
    /** sysctl_root's copy of the MIB a node handler gets as arg1 (CTL_MAXNAME ints), made at the first call. */
    private long sysctlName;
    /** Whether a call is using {@link #sysctlName}; a concurrent call copies its MIB into a block of its own. */
    private int sysctlSite = -1;
    private final java.util.concurrent.atomic.AtomicBoolean sysctlNameInUse = new java.util.concurrent.atomic.AtomicBoolean();
    private final Map<Integer, List<Long>> procMemory = new java.util.concurrent.ConcurrentHashMap<>();
    private final int procSite;
    private final KextManager kexts;
    private final FaultInjector faults;
    private final Map<Integer, LeakReport> reports = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Suppressions suppressions = Suppressions.none();
    /** The BSD process whose thread is in the kernel now, for panic logs. */
    private volatile String currentProcess = "kernel_task";

    /** The zone map's capacity for a configuration: from the zsize boot-arg, else from RAM. */
    private static long zoneMapCapacity(KernelConfig config) {
        return config.zoneMapSize() > 0
                ? Zalloc.zoneMapCapacityFor(config.physicalMemory(), config.zoneMapSize())
                : Zalloc.zoneMapCapacityFor(config.physicalMemory());
    }

    /** Where a kernel booted with this configuration puts its zone map, kalloc_map and kernel_map. */
    static AddressSpace.Layout layoutFor(KernelConfig config) {
        return AddressSpace.layout(zoneMapCapacity(config), Kalloc.kallocMapSize(config.physicalMemory()));
    }

    private Kernel(KernelConfig config) {
        this.config = config;
        long ram = config.physicalMemory();

        // Console and panic first, so that everything after can log and die properly.
        log = new KernelLog(() -> uptimeNanos);
        panicker = new Panicker();
        // The CPUs every allocation runs on; the ledger keeps a row of counters per CPU.
        cpus = new Cpus(config.cpus());
        ledger = new Ledger(config.findings(), cpus);

        // vm_mem_bootstrap: the zone map is sized from RAM (or the zsize boot-arg), kalloc_map is 1/32 of RAM.
        long zoneMapCapacity = zoneMapCapacity(config);
        AddressSpace.Layout layout = layoutFor(config);
        memory = new SparseMemory(layout.zoneMapStart(), layout.zoneMapEnd());
        kallocMap = new VmMap("kalloc_map", 0xffffff801f8a2d40L, layout.kallocMapStart(), layout.kallocMapEnd(),
                layout.kallocMapEnd() - layout.kallocMapStart());
        kernelMap = new VmMap("kernel_map", 0xffffff801f8a2c60L, layout.kernelMapStart(), layout.kernelMapEnd(),
                layout.kernelMapEnd() - layout.kernelMapStart());

        // zone_init and zcache_bootstrap, then kalloc_init: the 27 kalloc.N zones, most with per-CPU caches.
        zalloc = new Zalloc(zoneMapCapacity, memory, ledger, panicker, config.jetsamLimitPercent(), config.bootSeed(),
                cpus);
        memory.setZoneWriteObserver(zalloc::wrote);
        memory.setPageObserver(zalloc::touched);
        kalloc = new Kalloc(zalloc, kallocMap, kernelMap, memory, ledger, panicker, ram, log);

        // The allocators kexts call: BSD _MALLOC, libkern OSMalloc, IOKit's IOMalloc family.
        malloc = new BsdMalloc(kalloc, zalloc, memory, panicker);
        int tagFreeSite = kernelSite(Family.OSMALLOC_TAG, "OSMalloc_Tagfree", "OSMalloc_Tagrele");
        osmalloc = new OSMallocTags(kalloc, kernelMap, memory, ledger, panicker, tagFreeSite);
        iokit = new IOKitAllocators(kalloc, kernelMap, memory, ledger, panicker);

        // ipc_init: the IPC zones and kernel_task's space; then sysctl's tree with its top-level nodes.
        ipc = new Ipc();
        sysctl = new SysctlTree(panicker, this::isKextLoaded,
                config.kernelVersion().replaceAll(".*Darwin Kernel Version ([0-9.]+).*", "$1"));

        // bsd_init: launchd and the first processes, each holding some kernel memory and a task with
        // its ports; memorystatus kills them when the zone map passes its jetsam limit.
        memorystatus = new Memorystatus(log, () -> uptimeNanos, this::availablePages);
        procSite = kernelSite(Family.NONE, "kernel", "proc_alloc");
        for (Memorystatus.Proc proc : Memorystatus.catalinaBootProcesses()) {
            spawn(proc);
        }
        BootPorts.connect(ipc);
        memorystatus.setOnKill(this::reapProcess);
        zalloc.setPressureHandler(z -> killProcessInLargestZone());

        // OSKext: the kernel is load tag 0; kexts are linked and tracked from here on.
        kexts = new KextManager(new Host());
        // Fault injection (Linux's fail-nth): idle until a test arms it.
        faults = new FaultInjector(ledger, log);
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
        FaultPlan.Phase previousPhase = faults.enter(FaultPlan.Phase.START);
        try {
            return kexts.load(kextClass, options);
        } finally {
            currentProcess = previous;
            faults.enter(previousPhase);
        }
    }

    /** Stops and unloads a kext, then judges what it left behind. Stable. */
    public void kextunload(LoadedKext kext) {
        checkAlive();
        String previous = currentProcess;
        currentProcess = "kextunload";
        FaultPlan.Phase previousPhase = faults.enter(FaultPlan.Phase.STOP);
        try {
            kexts.unload(kext);
        } finally {
            currentProcess = previous;
            faults.enter(previousPhase);
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
     * silence. Called by the kext manager (through {@link Host}) after a successful stop or a failed start.
     */
    private void judgeUnload(LoadedKext kext, boolean startFailed) {
        reportLingeringOids(kext);
        LeakReport report = suppressions.apply(new LeakReport(kext.bundleId(), snapshotOfKext(kext.loadTag()),
                ledger.findingsOfKext(kext.loadTag()), heldPortRights(kext)));
        reports.put(kext.loadTag(), report);
        if (report.isClean()) {
            return;
        }
        LeakPolicy policy = kext.options().leakPolicy() != null ? kext.options().leakPolicy() : config.leakPolicy();
        switch (policy) {
            case XNU -> { }
            case FAIL -> throw KextVerdictError.of(report);
            case PANIC -> {
                int site = report.hasLeaks() ? report.outstanding().groups().get(0).site().id()
                        : report.hasHeldRights() ? report.heldRights().get(0).site().id()
                        : report.findings().get(0).site().id();
                throw panicker.harness(site, report.headline(), (startFailed ? "the kext's start failed; " : "")
                        + "XNU does not judge a kext at unload: it would unload it and leave the memory where it is "
                        + "(LeakPolicy.XNU). The harness panics under LeakPolicy.PANIC. Report:\n" + report.render());
            }
            default -> throw new IllegalStateException("unknown leak policy " + policy);
        }
    }

    private boolean isKextLoaded(int loadTag) {
        return kexts.loaded().stream().anyMatch(k -> k.loadTag() == loadTag);
    }

    /** An OID the kext registered and left in the tree: XNU keeps calling into the unloaded kext through it. */
    private void reportLingeringOids(LoadedKext kext) {
        for (SysctlTree.Registration r : sysctl.registeredBy(kext.loadTag())) {
            ledger.report(new Finding(Finding.Kind.LINGERING_REGISTRATION, ledger.site(r.site()), 0,
                    "sysctl " + r.path() + " (" + r.mib() + ") is still registered after " + kext.bundleId()
                            + " unloaded: XNU leaves the OID in the tree with its handler pointing into the unloaded "
                            + "kext, and the next sysctl on it page-faults the kernel. Call sysctl_unregister_oid in stop."));
        }
    }

    /** Port rights the kext's code took and still holds, booked to the sites that took them. */
    private List<HeldPortRight> heldPortRights(LoadedKext kext) {
        List<HeldPortRight> out = new ArrayList<>();
        for (KextPortRights.Held h : ipc.kextRights().outstanding(kext.loadTag(), ipc)) {
            out.add(new HeldPortRight(ledger.site(h.site()), h.task().pid(), h.task().name(), h.name(), h.right(),
                    h.urefs()));
        }
        ipc.kextRights().forget(kext.loadTag());
        return out;
    }

    /**
     * Accepts the leaks and findings these suppressions match: from now on each unload's report
     * leaves them out of the verdict and counts them in {@link LeakReport#suppressed()}. Stable.
     */
    public void useSuppressions(Suppressions accepted) {
        this.suppressions = java.util.Objects.requireNonNull(accepted, "accepted");
    }

    /** The suppressions unloads are judged with ({@link Suppressions#none()} unless set). Stable. */
    public Suppressions suppressions() {
        return suppressions;
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
        zalloc.forEachLiveGroup(LedgerSnapshot.SAMPLE_ADDRESSES,
                (zone, addr, site, requested, aux) ->
                        builder.add(ledger.site(site), zone.name(), tagName(site, aux), requested, zone.elemSize(), addr),
                (zone, site, count, requested, lowest) -> builder.addGroup(ledger.site(site), zone.name(),
                        tagName(site, 0), count, requested, count * zone.elemSize(), lowest));
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
            rows.add(new ZoneRow(zone.name(), zone.elemSize(), zone.mappedBytes(), zone.maxSize(), zone.count(),
                    zone.allocSize(), zone.totalAllocations() * zone.elemSize(), zone.freeBytes(), zone.exhaustible(),
                    zone.collectable()));
        }
        return rows;
    }

    /**
     * {@code zprint} in Catalina's layout, with the wired-memory report naming each kext's live
     * bytes: what it holds in a zone as a zone site per zone ({@code bundle[zone]}, as XNU reports
     * zone-tagged elements), the rest (kalloc_map blocks, pages) as one wired site. A kext that has
     * been unloaded with memory still held reads {@value WiredSite#UNLOADED_KMOD}, as zprint names
     * a site whose load tag is gone. Stable.
     */
    public String zprint(ZprintOptions options) {
        java.util.Set<Integer> loadedTags = new java.util.HashSet<>();
        for (LoadedKext kext : kexts.loaded()) {
            loadedTags.add(kext.loadTag());
        }
        // Keyed by load tag, then zone (null for wired memory outside the zones), in snapshot order.
        Map<Integer, Map<String, long[]>> perKext = new java.util.LinkedHashMap<>();
        Map<Integer, String> bundleIds = new HashMap<>();
        for (LedgerSnapshot.Group g : snapshot().groups()) {
            int loadTag = g.site().loadTag();
            if (loadTag != 0) {
                String zone = zalloc.zone(g.zone()) != null ? g.zone() : null;
                perKext.computeIfAbsent(loadTag, k -> new java.util.LinkedHashMap<>())
                        .computeIfAbsent(zone, k -> new long[1])[0] += g.wiredBytes();
                bundleIds.putIfAbsent(loadTag, g.site().bundleId());
            }
        }
        List<WiredSite> sites = new ArrayList<>();
        perKext.forEach((loadTag, byZone) -> {
            String bundleId = loadedTags.contains(loadTag) ? bundleIds.get(loadTag) : null;
            byZone.forEach((zone, bytes) -> sites.add(zone == null
                    ? WiredSite.kext(bundleId, loadTag, bytes[0])
                    : WiredSite.kextZone(bundleId, loadTag, zone, bytes[0])));
        });
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

    /** The simulated CPUs (to pin a test's thread to one). */
    @API(status = API.Status.INTERNAL, since = "0.1")
    public Cpus cpus() {
        return cpus;
    }

    /** Moves the simulated clock forward. */
    public synchronized void advanceClock(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("the clock only moves forward, not by " + nanos + " ns");
        }
        uptimeNanos += nanos;
    }

    // ---------------------------------------------------------------------------------------------
    // Subsystems, for the harness's own modules

    @API(status = API.Status.INTERNAL, since = "0.1")
    public Ledger ledger() {
        return ledger;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public Panicker panicker() {
        return panicker;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public SparseMemory memory() {
        return memory;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public Zalloc zalloc() {
        return zalloc;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public Kalloc kalloc() {
        return kalloc;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public BsdMalloc malloc() {
        return malloc;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public OSMallocTags osmalloc() {
        return osmalloc;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public IOKitAllocators iokit() {
        return iokit;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public Memorystatus memorystatus() {
        return memorystatus;
    }

    /** Mach IPC: tasks, threads, ports and rights. */
    @API(status = API.Status.EXPERIMENTAL, since = "0.1")
    public Ipc ipc() {
        return ipc;
    }

    /** The sysctl tree. */
    public SysctlTree sysctl() {
        return sysctl;
    }

    /** Port names per live process, as mach_port_names sees them (Activity Monitor's "Ports"). Stable. */
    @API(status = API.Status.INTERNAL, since = "0.1")
    public PortCensus portCensus() {
        checkAlive();
        return ipc.census();
    }

    /**
     * {@code sysctl(2)} for a user process: the caller's buffers, its errno as the result. A node
     * handler gets the rest of the MIB at a kernel address ({@code arg1}) and its length ({@code arg2}).
     */
    public SysctlTree.Result sysctl(Task caller, int[] name, int namelen, byte[] oldp, long oldlen, byte[] newp,
                                    long newlen) {
        checkAlive();
        Task previous = ipc.enter(caller);
        String previousProcess = currentProcess;
        currentProcess = caller.name();
        try {
            return sysctl.call(name, namelen, caller.procAddress(), oldp, oldlen, newp, newlen, (target, handler, rest, req) -> {
                long arg1 = 0;
                int arg2 = 0;
                long ownName = 0;
                if (rest != null) {
                    arg1 = claimSysctlName();
                    if (arg1 == 0) {
                        ownName = arg1 = kalloc.kalloc(4L * dev.kextharness.kpi.Sysctl.CTL_MAXNAME, true, sysctlSite());
                    }
                    for (int i = 0; i < rest.length; i++) {
                        memory.store(arg1 + 4L * i, 4, rest[i]);
                    }
                    arg2 = rest.length;
                } else {
                    arg1 = target == null ? 0 : target.oid().oid_arg1;
                    arg2 = target == null ? 0 : target.oid().oid_arg2;
                }
                long handlerArg1 = arg1;
                int handlerArg2 = arg2;
                try {
                    if (target == null) {
                        return handler.handle(null, handlerArg1, handlerArg2, req);
                    }
                    return kexts.callback(target.loadTag(), "sysctl handler of " + target.path(),
                            () -> handler.handle(target.oid(), handlerArg1, handlerArg2, req));
                } catch (RuntimeException e) { // a KernelPanic is an Error and goes through
                    log.printf("sysctl: the handler of " + (target == null ? "?" : target.path()) + " threw " + e
                            + "; C has no exceptions, so the harness returns EINVAL to the caller");
                    return SysctlTree.EINVAL;
                } finally {
                    if (ownName != 0) {
                        kalloc.kfree(ownName, 4L * dev.kextharness.kpi.Sysctl.CTL_MAXNAME, sysctlSite());
                    } else if (rest != null) {
                        sysctlNameInUse.set(false);
                    }
                }
            });
        } finally {
            ipc.enter(previous);
            currentProcess = previousProcess;
        }
    }

    /** The kernel's MIB buffer if no other call is using it (0 if one is), made at the first call. */
    private long claimSysctlName() {
        if (!sysctlNameInUse.compareAndSet(false, true)) {
            return 0;
        }
        if (sysctlName == 0) {
            sysctlName = kalloc.kalloc(4L * dev.kextharness.kpi.Sysctl.CTL_MAXNAME, true, sysctlSite());
        }
        return sysctlName;
    }

    private synchronized int sysctlSite() {
        if (sysctlSite < 0) {
            sysctlSite = kernelSite(Family.KALLOC, "kalloc", "sysctl_root");
        }
        return sysctlSite;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public VmMap kernelMap() {
        return kernelMap;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public VmMap kallocMap() {
        return kallocMap;
    }

    @API(status = API.Status.INTERNAL, since = "0.1")
    public KextManager kexts() {
        return kexts;
    }

    /** Fault injection: fails the n-th allocation of a kext when armed. */
    @API(status = API.Status.EXPERIMENTAL, since = "0.1")
    public FaultInjector faults() {
        return faults;
    }

    /** {@code kern.osrelease} from the version string, such as {@code 19.6.0}; null if it has none. */
    private String osrelease() {
        Matcher m = OSRELEASE.matcher(config.kernelVersion());
        return m.find() ? m.group(1) : null;
    }

    /** Registers a call site of the kernel itself (load tag 0). */
    @API(status = API.Status.INTERNAL, since = "0.1")
    public int kernelSite(Family family, String function, String where) {
        return ledger.register(0, KERNEL_BUNDLE_ID, function, family, "xnu", where, null, -1);
    }

    // ---------------------------------------------------------------------------------------------
    // Processes and jetsam

    /** Starts a simulated process holding kernel memory in proportion to its footprint. */
    @API(status = API.Status.EXPERIMENTAL, since = "0.1")
    public void spawn(Memorystatus.Proc proc) {
        List<Long> held = new ArrayList<>();
        long elements = Math.max(1, proc.footprintBytes() >>> 22);
        for (long i = 0; i < elements; i++) {
            held.add(kalloc.kalloc(4096, true, procSite));
        }
        procMemory.put(proc.pid(), held);
        memorystatus.spawn(proc);
        if (ipc.task(proc.pid()) == null) {
            ipc.spawn(proc.pid(), proc.name());
        }
    }

    /** Bytes of zone memory a live process holds (0 once it has been killed). */
    @API(status = API.Status.EXPERIMENTAL, since = "0.1")
    public long processKernelBytes(int pid) {
        List<Long> held = procMemory.get(pid);
        return held == null ? 0 : (long) held.size() * kalloc.zoneFor(4096).elemSize();
    }

    private void reapProcess(Memorystatus.Proc proc) {
        Task task = ipc.task(proc.pid());
        if (task != null) {
            ipc.terminate(task);
        }
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

    /**
     * {@code zone_gc(TRUE)}: what the pageout GC thread does past the jetsam limit. As in XNU,
     * {@code kill_process_in_largest_zone()} logs and kills first; the collection that follows
     * reclaims the free chunks, the victim's among them, and brings the map's size down.
     */
    private void killProcessInLargestZone() {
        Zone largest = zalloc.largestZone();
        log.printf(CFormat.format("zone_map_exhaustion: Zone map size %lld, capacity %lld [jetsam limit %d%%]",
                zalloc.zoneMapSize(), zalloc.zoneMapCapacity(), zalloc.jetsamLimitPercent()));
        log.printf(CFormat.format("zone_map_exhaustion: Largest zone %s, size %lu", largest.name(), largest.curSize()));
        log.printf(CFormat.format("zone_map_exhaustion: Nothing to do for the largest zone [%s]. Waking up memorystatus thread.",
                largest.name()));
        if (memorystatus.killOne("highwater") == null) {
            log.printf(CFormat.format("zone_map_exhaustion: Call to memorystatus failed, victim pid: %d", -1));
        }
        zalloc.zoneGc();
    }

    @Override
    public void close() {
        // Nothing outside the JVM heap is held; closing marks the end of a test's kernel.
    }

    /** What the panicker asks of the kernel to finish a panic. */
    /** The kernel as its kext manager and the KPI see it: the subsystems, the unload verdict. */
    private final class Host implements KextHost {
        @Override
        public void checkAlive() {
            Kernel.this.checkAlive();
        }

        @Override
        public KernelPanic panic() {
            return Kernel.this.panic();
        }

        @Override
        public long uptimeNanos() {
            return uptimeNanos;
        }

        @Override
        public java.time.Duration watchdogLimit() {
            return config.watchdog();
        }

        @Override
        public String osrelease() {
            return Kernel.this.osrelease();
        }

        @Override
        public LeakPolicy leakPolicy() {
            return config.leakPolicy();
        }

        @Override
        public KextRow kernelRow(int refs) {
            return new KextRow(0, refs, AddressSpace.KERNEL_TEXT_BASE_UNSLID + KERNEL_SLIDE, KERNEL_TEXT_SIZE,
                    KERNEL_TEXT_SIZE, KERNEL_BUNDLE_ID, osrelease(), KERNEL_UUID, List.of());
        }

        @Override
        public KernelLog log() {
            return log;
        }

        @Override
        public Panicker panicker() {
            return panicker;
        }

        @Override
        public Ledger ledger() {
            return ledger;
        }

        @Override
        public SparseMemory memory() {
            return memory;
        }

        @Override
        public Zalloc zalloc() {
            return zalloc;
        }

        @Override
        public Kalloc kalloc() {
            return kalloc;
        }

        @Override
        public BsdMalloc malloc() {
            return malloc;
        }

        @Override
        public OSMallocTags osmalloc() {
            return osmalloc;
        }

        @Override
        public IOKitAllocators iokit() {
            return iokit;
        }

        @Override
        public Ipc ipc() {
            return ipc;
        }

        @Override
        public SysctlTree sysctl() {
            return sysctl;
        }

        @Override
        public FaultInjector faults() {
            return faults;
        }

        @Override
        public void judgeUnload(LoadedKext kext, boolean startFailed) {
            Kernel.this.judgeUnload(kext, startFailed);
        }
    }

    private final class PanicContext implements Panicker.Context {
        @Override
        public String renderLog(PanicEvent event) {
            return PanicLogs.render(Kernel.this, event);
        }

        @Override
        public LedgerSnapshot snapshot() {
            return Kernel.this.snapshot();
        }

        @Override
        public void panicked(KernelPanic panic) {
            kexts.panicked();
        }
    }
}
