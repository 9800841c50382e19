/**
 * User space of the port-leak sample: the processes the article's story needs around its kext (the
 * leaking browser, port_tracer). They are programs, not kext code: they call the simulated
 * libsystem ({@code dev.kextharness.kernel.user.UserProcess}), and no kext may use them.
 */
package dev.kextharness.samples.ports.userland;
