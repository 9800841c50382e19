package dev.kextharness.samples.ports.userland;

import dev.kextharness.kernel.Kernel;
import dev.kextharness.kernel.ipc.Ipc;
import dev.kextharness.kernel.ipc.MachThread;
import dev.kextharness.kernel.user.UserProcess;

import static dev.kextharness.kpi.KernReturn.KERN_SUCCESS;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_COPY_SEND;
import static dev.kextharness.kpi.MachPort.MACH_MSG_TYPE_MAKE_SEND;
import static dev.kextharness.kpi.MachPort.MACH_PORT_RIGHT_RECEIVE;

/**
 * The article's browser process (a user process, not a kext): it posts work to short-lived worker
 * threads, and each task asks {@code PlatformThread::CurrentId()}, which is
 * {@code mach_thread_self()}. The leaking build never deallocates that send right, so every
 * worker thread leaves a name behind (a dead name once the thread has gone) until the space is
 * full and CoreFoundation halts in {@code __THE_SYSTEM_HAS_NO_PORTS_AVAILABLE__}. The fixed build
 * calls {@code mach_port_deallocate} after using the id.
 *
 * <p>It also starts a helper process connected to it by a port, so that port_tracer has a real
 * partner to find.
 */
public final class ChromiumBrowser {
    private final UserProcess browser;
    private final UserProcess helper;
    private final boolean fixed;
    private long tasksRun;

    private ChromiumBrowser(UserProcess browser, UserProcess helper, boolean fixed) {
        this.browser = browser;
        this.helper = helper;
        this.fixed = fixed;
    }

    /** {@code msgh_id} of the helper's first message. */
    private static final int HELLO = 0x4348;

    /** Starts the browser and its helper; {@code fixed} chooses the build with the deallocation. */
    public static ChromiumBrowser launch(Kernel kernel, boolean fixed) {
        UserProcess browser = UserProcess.spawn(kernel, "Chromium");
        UserProcess helper = UserProcess.spawn(kernel, "Chromium Helper");
        int listener = browser.__CFPortAllocate();
        // bootstrap_look_up: launchd's reply carries the helper a send right to the browser's port.
        int toBrowser = kernel.ipc().transfer(browser.task().space(), listener, MACH_MSG_TYPE_MAKE_SEND,
                helper.task().space());
        // The helper introduces itself: its first message carries a send right to its own port.
        int[] helperPort = new int[1];
        helper.mach_port_allocate(helper.mach_task_self(), MACH_PORT_RIGHT_RECEIVE, helperPort);
        int rc = helper.mach_msg_send(toBrowser, MACH_MSG_TYPE_COPY_SEND, HELLO, new int[]{helperPort[0]},
                new int[]{MACH_MSG_TYPE_MAKE_SEND});
        Ipc.Received[] hello = new Ipc.Received[1];
        if (rc != Ipc.MACH_MSG_SUCCESS || browser.mach_msg_receive(listener, hello) != Ipc.MACH_MSG_SUCCESS
                || hello[0].id() != HELLO) {
            throw new IllegalStateException("the helper could not introduce itself to the browser: 0x"
                    + Integer.toHexString(rc));
        }
        return new ChromiumBrowser(browser, helper, fixed);
    }

    public UserProcess process() {
        return browser;
    }

    public UserProcess helper() {
        return helper;
    }

    public int pid() {
        return browser.pid();
    }

    public boolean isFixed() {
        return fixed;
    }

    public long tasksRun() {
        return tasksRun;
    }

    /** {@code PlatformThread::CurrentId()}: the thread's port name, used as an id. */
    private int currentId() {
        int id = browser.mach_thread_self();
        if (fixed) {
            browser.mach_port_deallocate(browser.mach_task_self(), id); // the fix: release the send right
        }
        return id;
    }

    /**
     * Runs {@code n} tasks, each on a fresh worker thread that asks for its id and exits; between
     * tasks the run loop takes and returns a port of its own ({@code __CFPortAllocate}), which is
     * where a full space is noticed.
     *
     * @throws dev.kextharness.kernel.user.ProcessCrash when the browser runs out of port names
     */
    public void runTasks(long n) {
        for (long i = 0; i < n; i++) {
            MachThread worker = browser.pthread_create();
            browser.runOn(worker, this::currentId);
            browser.pthread_exit(worker);
            int runLoopPort = browser.__CFPortAllocate();
            if (browser.mach_port_mod_refs(browser.mach_task_self(), runLoopPort, MACH_PORT_RIGHT_RECEIVE, -1)
                    != KERN_SUCCESS) {
                throw new IllegalStateException("the run loop could not release its port");
            }
            tasksRun++;
        }
    }
}
