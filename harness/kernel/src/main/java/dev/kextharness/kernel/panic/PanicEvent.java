package dev.kextharness.kernel.panic;

/**
 * What raised a panic, before it is rendered into a log.
 *
 * @param panicString   the formatted panic message
 * @param fromKernel    true for XNU's own panics (the caller is the kernel); false for a kext's {@code panic()}
 * @param file          source path of {@code @file:line} for a kernel panic through the {@code panic()} macro
 *                      (quoted, escaped); null for a kext's panic or a kernel one without the macro (plain)
 * @param line          source line of {@code @file:line} (the line of the call's closing parenthesis), else 0
 * @param site          the ledger call site whose call led here, or -1 (puts that kext in the backtrace)
 * @param includeZprint whether XNU sets {@code panic_include_zprint} for this panic
 * @param harnessNote   where the harness is stricter than XNU, what XNU would do; else null
 */
public record PanicEvent(String panicString, boolean fromKernel, String file, int line, int site,
                         boolean includeZprint, String harnessNote) {
}
