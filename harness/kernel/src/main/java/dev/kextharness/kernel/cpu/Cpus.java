package dev.kextharness.kernel.cpu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * The simulated CPUs of one kernel. A thread that enters the kernel's allocation paths takes a CPU
 * for the length of the call, as XNU's {@code disable_preemption()} pins a thread to
 * {@code current_processor()} while it touches that CPU's caches: while a thread holds a CPU, no
 * other thread uses it, so everything kept per CPU (zcache magazines, ledger counter rows) is
 * read and written with plain accesses and no shared lock.
 *
 * <p>A thread first tries the CPU its identity hash picks, so that a few threads on many CPUs
 * keep to one CPU each; a thread can also be {@linkplain #pin pinned} to one CPU (deterministic
 * tests). With more threads than CPUs, a thread that finds every CPU busy spins, then parks
 * briefly: the calls it waits for are short and never block on anything.
 */
public final class Cpus {
    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(Cpu.class, "owner", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One simulated CPU: its number and whoever is running on it now. */
    public static final class Cpu {
        private final int id;
        @SuppressWarnings("unused") // through OWNER
        private volatile Thread owner;
        private volatile Thread pinned;
        /** Keeps two CPUs' owner fields off one cache line (they are taken at every call). */
        @SuppressWarnings("unused")
        private long pad1, pad2, pad3, pad4, pad5, pad6, pad7;

        Cpu(int id) {
            this.id = id;
        }

        /** {@code cpu_number()}. */
        public int id() {
            return id;
        }
    }

    private final Cpu[] cpus;
    private volatile boolean anyPinned;

    /**
     * @param count the number of CPUs ({@code KernelConfig.cpus()}), 1..{@value #MAX_CPUS}
     */
    public Cpus(int count) {
        if (count < 1 || count > MAX_CPUS) {
            throw new IllegalArgumentException("a kernel has 1.." + MAX_CPUS + " CPUs (MAX_CPUS on x86_64), not " + count);
        }
        cpus = new Cpu[count];
        for (int i = 0; i < count; i++) {
            cpus[i] = new Cpu(i);
        }
    }

    /** {@code MAX_CPUS} on x86_64 in xnu-6153 (osfmk/i386/mp.h). */
    public static final int MAX_CPUS = 64;

    public int count() {
        return cpus.length;
    }

    /**
     * Takes a CPU for the calling thread; give it back with {@link #release}. Not reentrant: the
     * kernel takes a CPU only around calls that do not take one again.
     */
    public Cpu acquire() {
        Thread self = Thread.currentThread();
        if (anyPinned) {
            Cpu pinned = pinnedCpu(self);
            if (pinned != null) {
                take(pinned, self);
                return pinned;
            }
        }
        int n = cpus.length;
        int first = (System.identityHashCode(self) & 0x7fffffff) % n;
        for (int spins = 0; ; spins++) {
            for (int k = 0; k < n; k++) {
                Cpu cpu = cpus[(first + k) % n];
                if (cpu.pinned == null && OWNER.compareAndSet(cpu, null, self)) {
                    return cpu;
                }
            }
            backOff(spins);
        }
    }

    /** Gives the CPU back (the thread leaves the kernel's critical section). */
    public void release(Cpu cpu) {
        OWNER.setRelease(cpu, null);
    }

    /**
     * Runs the calling thread on CPU {@code id} until {@link #unpin}: no other thread takes it in the
     * meantime (they use the other CPUs). For tests that need a known CPU's magazines.
     */
    public void pin(int id) {
        if (id < 0 || id >= cpus.length) {
            throw new IllegalArgumentException("CPU " + id + " does not exist: this kernel has CPUs 0.." + (cpus.length - 1));
        }
        Thread self = Thread.currentThread();
        if (pinnedCpu(self) != null) {
            throw new IllegalStateException(self.getName() + " is already pinned to CPU " + pinnedCpu(self).id + ": unpin first");
        }
        Cpu cpu = cpus[id];
        synchronized (this) {
            if (cpu.pinned != null) {
                throw new IllegalStateException("CPU " + id + " is already pinned to " + cpu.pinned.getName());
            }
            cpu.pinned = self;
            anyPinned = true;
        }
    }

    /** Ends the calling thread's {@link #pin}. */
    public void unpin() {
        Cpu cpu = pinnedCpu(Thread.currentThread());
        if (cpu == null) {
            throw new IllegalStateException(Thread.currentThread().getName() + " is not pinned to a CPU");
        }
        synchronized (this) {
            cpu.pinned = null;
            boolean any = false;
            for (Cpu c : cpus) {
                any |= c.pinned != null;
            }
            anyPinned = any;
        }
    }

    /**
     * Runs {@code change} while the calling thread holds every CPU, so that no other thread is in a
     * per-CPU section meanwhile; the caller holds {@code own} before and after. It gives {@code own}
     * back while it waits for {@code lock}, so two threads doing this never wait for each other's CPU.
     */
    public void withEveryCpu(Cpu own, Object lock, Runnable change) {
        Thread self = Thread.currentThread();
        release(own);
        synchronized (lock) {
            for (Cpu cpu : cpus) {
                take(cpu, self);
            }
            try {
                change.run();
            } finally {
                for (Cpu cpu : cpus) {
                    if (cpu != own) {
                        release(cpu);
                    }
                }
            }
        }
    }

    private Cpu pinnedCpu(Thread self) {
        for (Cpu cpu : cpus) {
            if (cpu.pinned == self) {
                return cpu;
            }
        }
        return null;
    }

    private static void take(Cpu cpu, Thread self) {
        for (int spins = 0; !OWNER.compareAndSet(cpu, null, self); spins++) {
            backOff(spins); // only a thread that took it before the pin can hold it; it leaves soon
        }
    }

    private static void backOff(int spins) {
        if (spins < 64) {
            Thread.onSpinWait();
        } else if (spins < 128) {
            Thread.yield();
        } else {
            LockSupport.parkNanos(10_000);
        }
    }
}
