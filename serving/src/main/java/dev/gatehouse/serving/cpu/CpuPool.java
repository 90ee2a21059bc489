package dev.gatehouse.serving.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The threads the Java matrix kernels run on: one per core, daemons, shared by every model. PyTorch's
 * own threads are idle while a kernel runs (the model's steps are sequential), so the two never compete.
 */
final class CpuPool {
    private static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors(), pool -> {
        var thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
        thread.setName("gatehouse-matmul-" + thread.getPoolIndex());
        thread.setDaemon(true);
        return thread;
    }, null, false);

    private CpuPool() {}

    /** Runs {@code body} for 0..tasks-1 across the pool and returns when all are done. */
    static void forEach(int tasks, IntConsumer body) {
        if (tasks == 1 || POOL.getParallelism() == 1) {
            IntStream.range(0, tasks).forEach(body);
            return;
        }
        POOL.submit(() -> IntStream.range(0, tasks).parallel().forEach(body)).join();
    }
}
