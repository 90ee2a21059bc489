package dev.gatehouse.serving.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The threads the Java kernels (matrix products, attention) run on: one per core besides the caller, daemons, shared by
 * every model. PyTorch's own threads are idle while a kernel runs (the model's steps are sequential),
 * so the two never compete.
 */
public final class CpuPool {
    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, CORES - 1), pool -> {
        var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setName("gatehouse-matmul-" + thread.getPoolIndex());
        thread.setDaemon(true);
        return thread;
    }, null, false);

    /**
     * How long the caller spins (about 100 µs) for a helper's last task before parking: parked, it waits
     * for an unpark and a wake-up of its core, which at a decode's 120 small products a token cost more
     * than their stragglers (quiet 2-core Xeon: 1.10-1.16x an F32 and 1.15-1.23x a BF16 SmolLM2 token,
     * 500 spins 1.04-1.06x; docs/benchmarks.md). Helpers do not spin between calls: that lost under load.
     */
    private static final int JOIN_SPINS = 2_000;

    private CpuPool() {}

    /** The cores a call can use: the caller's and the pool's. */
    public static int cores() {
        return CORES;
    }

    /**
     * Runs {@code body} for 0..tasks-1 and returns when all are done. The caller works too, and tasks
     * are handed out from one counter: one wake-up per helper thread per call (about 4 µs with the join,
     * PoolBench), and a core slowed by another process simply takes fewer tasks. A task's failure is
     * thrown here, once no task is still running.
     */
    public static void forEach(int tasks, IntConsumer body) {
        if (tasks == 1 || CORES == 1) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable worker = () -> {
            for (int i = next.getAndIncrement(); i < tasks; i = next.getAndIncrement()) {
                body.accept(i);
            }
        };
        int helpers = Math.min(tasks, CORES) - 1;
        ForkJoinTask<?>[] started = new ForkJoinTask<?>[helpers];
        for (int h = 0; h < helpers; h++) {
            started[h] = POOL.submit(worker);
        }
        try {
            worker.run();
        } finally { // never return while a helper still runs a task, even when one of the caller's failed
            for (ForkJoinTask<?> task : started) {
                for (int spin = 0; spin < JOIN_SPINS && !task.isDone(); spin++) {
                    Thread.onSpinWait();
                }
                task.quietlyJoin();
            }
        }
        for (ForkJoinTask<?> task : started) {
            task.join(); // rethrows a helper's failure
        }
    }
}
