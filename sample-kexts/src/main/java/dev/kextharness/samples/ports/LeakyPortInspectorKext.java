package dev.kextharness.samples.ports;

import dev.kextharness.kpi.KernReturn;
import dev.kextharness.kpi.KextBundle;
import dev.kextharness.kpi.KmodInfo;

import static dev.kextharness.kpi.OSMalloc.OSMalloc_Tagfree;

/**
 * The inspector with the stop routine a first draft has: it frees its tag but never unregisters
 * {@code debug.port_tracer}, so the OID outlives the kext with a handler pointing into unloaded
 * code. XNU says nothing until the next {@code sysctl} on it page-faults the kernel.
 */
@KextBundle(id = "org.chromium.kext.port-inspector", version = "1.0")
public class LeakyPortInspectorKext extends PortInspectorKext {

    @Override
    public int stop(KmodInfo ki, long d) {
        OSMalloc_Tagfree(tag);
        return KernReturn.KERN_SUCCESS;
    }
}
