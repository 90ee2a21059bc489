package dev.gatehouse.serving.cpu;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The threads the Java kernels (matrix products, attention) run on: one per core besides the caller, daemons, shared by
 * every model. PyTorch's own threads are idle while a kernel runs (the model's steps are sequential),
 * so the two never compete.
 *
 * <p>A decode step is some 150 small calls in a row, each a few tens of microseconds of work. A parked
 * thread takes as long again to wake, so both sides spin for a while before they park: the caller for the
 * helpers' last tasks, a helper for the next call. Between steps (sampling, the HTTP side) they park.
 */
public final class CpuPool {
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    /**
     * How long the caller spins (about 100 µs) for a helper's last task before parking: parked, it waits
     * for an unpark and a wake-up of its core, which at a decode's 120 small products a token cost more
     * than their stragglers (quiet 2-core Xeon: 1.10-1.16x an F32 and 1.15-1.23x a BF16 SmolLM2 token,
     * 500 spins 1.04-1.06x; docs/benchmarks.md).
     */
    private static final int JOIN_SPINS = 2_000;
    /**
     * How long a helper spins for the next call before parking (about 100 µs): longer than the gaps inside
     * a step (quiet 2-core Xeon: 1.06-1.09x an F32 SmolLM2 token; no loss measured beside one busy process).
     */
    private static final int IDLE_SPINS = 2_000;

    private static final Helper[] HELPERS = startHelpers();
    /** Held by the one caller whose call the helpers serve; a call that finds it taken runs on its own thread. */
    private static final AtomicBoolean TAKEN = new AtomicBoolean();
    private static volatile Call current;

    private CpuPool() {}

    /** The cores a call can use: the caller's and the pool's. */
    public static int cores() {
        return CORES;
    }

    /**
     * Runs {@code body} for 0..tasks-1 and returns when all are done. The caller works too, and tasks
     * are handed out from one counter, so a core slowed by another process simply takes fewer tasks. A
     * task's failure is thrown here, once no task is still running.
     */
    public static void forEach(int tasks, IntConsumer body) {
        if (tasks <= 1 || HELPERS.length == 0 || !TAKEN.compareAndSet(false, true)) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        try {
            int helpers = Math.min(tasks - 1, HELPERS.length);
            Call call = new Call(tasks, body, helpers);
            current = call;
            for (int h = 0; h < helpers; h++) {
                HELPERS[h].wake();
            }
            try {
                call.work();
            } finally { // never return while a helper still runs a task, even when one of the caller's failed
                call.awaitHelpers();
            }
            if (call.failure instanceof RuntimeException e) {
                throw e;
            } else if (call.failure instanceof Error e) {
                throw e;
            }
        } finally {
            TAKEN.set(false);
        }
    }

    private static Helper[] startHelpers() {
        Helper[] helpers = new Helper[Math.max(0, CORES - 1)];
        for (int h = 0; h < helpers.length; h++) {
            helpers[h] = new Helper(h);
            helpers[h].thread.start();
        }
        return helpers;
    }

    /** One forEach: its task counter, the helpers that joined it, and the first failure of a helper's task. */
    private static final class Call {
        final int tasks;
        final IntConsumer body;
        final int helpers;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger helpersLeft;
        final Thread caller = Thread.currentThread();
        volatile Throwable failure;

        Call(int tasks, IntConsumer body, int helpers) {
            this.tasks = tasks;
            this.body = body;
            this.helpers = helpers;
            this.helpersLeft = new AtomicInteger(helpers);
        }

        void work() {
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                body.accept(i);
            }
        }

        /** A helper's share: its failure is kept for the caller, and the caller woken if it parked. */
        void helpOut() {
            try {
                work();
            } catch (RuntimeException | Error e) {
                failure = e;
            } finally {
                if (helpersLeft.decrementAndGet() == 0) {
                    LockSupport.unpark(caller);
                }
            }
        }

        void awaitHelpers() {
            for (int spin = 0; spin < JOIN_SPINS && helpersLeft.get() > 0; spin++) {
                Thread.onSpinWait();
            }
            while (helpersLeft.get() > 0) {
                LockSupport.park(this);
            }
        }
    }

    /** A helper thread: serves each call meant for it (its index below the call's helpers), spinning a while between calls, then parking. */
    private static final class Helper implements Runnable {
        final int index;
        final Thread thread;
        volatile boolean parked;

        Helper(int index) {
            this.index = index;
            this.thread = new Thread(this, "gatehouse-matmul-" + index);
            thread.setDaemon(true);
        }

        void wake() {
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        @Override
        public void run() {
            Call served = null;
            while (true) {
                Call call = nextCall(served);
                served = call;
                if (index < call.helpers) {
                    call.helpOut();
                }
            }
        }

        /** The first call after {@code served}: spun for, then parked for (set parked, look again, park). */
        private Call nextCall(Call served) {
            for (int spin = 0; spin < IDLE_SPINS; spin++) {
                Call call = current;
                if (call != served) {
                    return call;
                }
                Thread.onSpinWait();
            }
            while (true) {
                parked = true;
                Call call = current;
                if (call != served) {
                    parked = false;
                    return call;
                }
                LockSupport.park(this);
                parked = false;
            }
        }
    }
}
