package dev.kextharness.kpi;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The one declaration of a KPI function, on its facade method: the library whose export list holds
 * its symbol, the allocator family it allocates from or frees to, and whether fault injection may
 * fail it. The kernel reads these once into its KPI contract, from which kextload's linking, its
 * symbol check, fault injection, the ledger's families and the documentation's KPI table all come.
 *
 * <p>Stability: stable.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Kpi {

    /** The library that exports the symbol; {@link KpiLibrary#NONE} for a macro, {@link KpiLibrary#NOT_EXPORTED} for none. */
    KpiLibrary library();

    /**
     * The symbol the C compiles to, as the export list spells it ({@code _kalloc}); empty means
     * {@code "_"} plus the function's name. An inline names the exported function it calls
     * ({@code OSIncrementAtomic64} is {@code _OSAddAtomic64}).
     */
    String symbol() default "";

    /** The allocator family it allocates from or frees to. */
    AllocatorFamily family() default AllocatorFamily.NONE;

    /** Whether fault injection may fail it (an allocation that returns NULL). */
    boolean failable() default false;

    /**
     * Whether kextload binds each call to the kernel that loaded the kext. False for a function
     * the facade computes itself (a pure macro, an atomic on a Java counter).
     */
    boolean bound() default true;
}
