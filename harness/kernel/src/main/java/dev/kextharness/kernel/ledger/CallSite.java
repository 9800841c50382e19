package dev.kextharness.kernel.ledger;

import org.apiguardian.api.API;

/**
 * One call of a KPI function in a kext's code (or a named place in the kernel), identified
 * statically when the kext is linked: XNU's {@code vm_allocation_site}, one per call site.
 *
 * @param id         index in the kernel's site table
 * @param loadTag    load tag of the kext the code belongs to (0 for the kernel)
 * @param bundleId   bundle identifier of that kext ({@code __kernel__} for the kernel)
 * @param function   the KPI function called there, such as {@code _MALLOC}
 * @param family     the allocator family the function allocates or frees in
 * @param className  the calling class (binary name)
 * @param methodName the calling method
 * @param fileName   the source file, or null when the class has none recorded
 * @param line       the source line, or -1 when unknown
 */
@API(status = API.Status.STABLE, since = "0.1")
public record CallSite(int id, int loadTag, String bundleId, String function, Family family,
                       String className, String methodName, String fileName, int line) {

    /** {@code Class.method(File.java:line)}, the way a Java stack trace names a frame. */
    public String location() {
        String simple = className.substring(className.lastIndexOf('.') + 1);
        String where = fileName == null ? "Unknown Source" : line >= 0 ? fileName + ":" + line : fileName;
        return simple + "." + methodName + "(" + where + ")";
    }

    /**
     * A signature that survives refactoring elsewhere in the file: kext, function, class and
     * method, but not the line number. CI allowlists match on it.
     */
    public String signature() {
        return bundleId + "|" + function + "|" + className + "." + methodName;
    }

    @Override
    public String toString() {
        return function + " at " + location();
    }
}
