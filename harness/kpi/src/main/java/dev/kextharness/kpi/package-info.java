/**
 * The kernel programming interface a kext compiles against: our Kernel.framework. One class per
 * XNU header, with XNU's names, argument order and constants; pointers are {@code long} kernel
 * addresses and 0 is NULL. Kext code reads like the C it replays:
 *
 * <pre>{@code
 * import static dev.kextharness.kpi.Malloc.*;
 * import static dev.kextharness.kpi.Systm.*;
 *
 * long p = _MALLOC(1, M_TEMP, M_WAITOK);
 * printf("kext-memleak: byte allocated %#llx %#x\n", p, Mem.load8(p));
 * }</pre>
 *
 * <p>Each function carries its one declaration, {@link dev.kextharness.kpi.Kpi}: the Catalina KPI
 * library that exports it ({@link dev.kextharness.kpi.KpiLibrary}), its allocator family, whether
 * fault injection may fail it. A kext links only what the libraries its
 * {@link dev.kextharness.kpi.KextBundle#libraries()} names export.
 *
 * <p>The facade holds no state. Every function that needs a kernel is bound to one when kextload
 * links the kext; called from anywhere else it throws {@link java.lang.IllegalStateException}.
 */
package dev.kextharness.kpi;
