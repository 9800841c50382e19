package dev.kextharness.kpi;

/**
 * {@code <mach/kern_return.h>}: the {@code kern_return_t} codes, with XNU's values.
 *
 * <p>Stability: stable.
 */
public final class KernReturn {
    private KernReturn() {
    }

    public static final int KERN_SUCCESS = 0;
    public static final int KERN_INVALID_ADDRESS = 1;
    public static final int KERN_PROTECTION_FAILURE = 2;
    public static final int KERN_NO_SPACE = 3;
    public static final int KERN_INVALID_ARGUMENT = 4;
    public static final int KERN_FAILURE = 5;
    public static final int KERN_RESOURCE_SHORTAGE = 6;
    public static final int KERN_NOT_RECEIVER = 7;
    public static final int KERN_NO_ACCESS = 8;
    public static final int KERN_MEMORY_FAILURE = 9;
    public static final int KERN_MEMORY_ERROR = 10;
    public static final int KERN_ALREADY_IN_SET = 11;
    public static final int KERN_NOT_IN_SET = 12;
    public static final int KERN_NAME_EXISTS = 13;
    public static final int KERN_ABORTED = 14;
    public static final int KERN_INVALID_NAME = 15;
    public static final int KERN_INVALID_TASK = 16;
    public static final int KERN_INVALID_RIGHT = 17;
    public static final int KERN_INVALID_VALUE = 18;
    public static final int KERN_UREFS_OVERFLOW = 19;
    public static final int KERN_INVALID_CAPABILITY = 20;
    public static final int KERN_RIGHT_EXISTS = 21;
    public static final int KERN_INVALID_HOST = 22;
    public static final int KERN_MEMORY_PRESENT = 23;
    public static final int KERN_NOT_SUPPORTED = 46;
    public static final int KERN_OPERATION_TIMED_OUT = 49;
    public static final int KERN_CODESIGN_ERROR = 50;
    public static final int KERN_INSUFFICIENT_BUFFER_SIZE = 52;
    public static final int KERN_RETURN_MAX = 0x100;
}
