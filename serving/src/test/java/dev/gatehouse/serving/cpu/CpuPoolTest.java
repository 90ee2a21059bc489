package dev.gatehouse.serving.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The pool runs every task once, fails a call whose task failed only once its tasks stopped, and serves concurrent callers without deadlock or new threads. */
class CpuPoolTest {
    @Test
    void runsEveryTaskExactlyOnce() {
        for (int round = 0; round < 200; round++) {
            int tasks = 1 + round % 37;
            AtomicIntegerArray runs = new AtomicIntegerArray(tasks);
            CpuPool.forEach(tasks, runs::incrementAndGet);
            for (int i = 0; i < tasks; i++) {
                assertEquals(1, runs.get(i), "task " + i + " of " + tasks);
            }
            if (round % 50 == 0) {
                sleep(2); // long enough for the helpers to park: the next call must wake them
            }
        }
    }

    /** A task that fails on the calling thread fails the call, which returns only once the helpers' tasks are done. */
    @Test
    void aFailingTaskFailsTheCallAfterTheOthersStop() {
        Thread caller = Thread.currentThread();
        AtomicIntegerArray runs = new AtomicIntegerArray(16);
        var failure = assertThrows(IllegalStateException.class, () -> CpuPool.forEach(16, i -> {
            runs.incrementAndGet(i);
            sleep(2);
            if (Thread.currentThread() == caller) {
                throw new IllegalStateException("task " + i);
            }
        }));
        assertTrue(failure.getMessage().contains("task "), failure.getMessage());
        int[] atReturn = new int[16];
        for (int i = 0; i < 16; i++) {
            atReturn[i] = runs.get(i);
            assertTrue(atReturn[i] <= 1, "task " + i + " ran " + atReturn[i] + " times");
        }
        sleep(50);
        for (int i = 0; i < 16; i++) {
            assertEquals(atReturn[i], runs.get(i), "task " + i + " ran after the call returned");
        }
        AtomicIntegerArray after = new AtomicIntegerArray(8);
        CpuPool.forEach(8, after::incrementAndGet);
        for (int i = 0; i < 8; i++) {
            assertEquals(1, after.get(i), "the pool still works, task " + i);
        }
    }

    /**
     * Several threads multiplying at once (the engine and an embedding request, say), with pauses that
     * let the helpers park: every product what one thread alone computed, every row written, all done in
     * time, and no more pool threads than before.
     */
    @Test
    void concurrentCallersGetTheirOwnExactResults() throws Exception {
        Random random = new Random(3);
        int callers = 4;
        CpuMatrix[] matrices = new CpuMatrix[callers];
        float[][] inputs = new float[callers][];
        float[][] expected = new float[callers][];
        for (int c = 0; c < callers; c++) {
            int rows = 512 + 64 * c;
            int cols = 256;
            ByteBuffer data = CpuMatrix.allocate(CpuMatrix.Format.BF16, rows, cols);
            for (int i = 0; i < rows * cols; i++) {
                data.putShort(2 * i, (short) (Float.floatToIntBits((float) random.nextGaussian()) >>> 16));
            }
            matrices[c] = new CpuMatrix(CpuMatrix.Format.BF16, cols, List.of(data));
            int tokens = 1 + c % 2 * 4; // one-token and prefill products
            inputs[c] = new float[tokens * cols];
            for (int i = 0; i < inputs[c].length; i++) {
                inputs[c][i] = (float) random.nextGaussian();
            }
            expected[c] = new float[tokens * rows];
            matrices[c].multiply(inputs[c], tokens, expected[c]);
        }
        long poolThreadsBefore = poolThreads();
        ExecutorService threads = Executors.newFixedThreadPool(callers);
        try {
            assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < callers; c++) {
                    int caller = c;
                    done.add(threads.submit(() -> {
                        start.await();
                        float[] y = new float[expected[caller].length];
                        for (int i = 0; i < 300; i++) {
                            Arrays.fill(y, Float.NaN); // a row no task wrote stays NaN
                            matrices[caller].multiply(inputs[caller], inputs[caller].length / matrices[caller].cols(), y);
                            for (int k = 0; k < y.length; k++) { // to FP32 rounding: compiled code may sum a vector's lanes in another order
                                assertEquals(expected[caller][k], y[k], 1e-4f,
                                        "caller " + caller + ", product " + i + ", at " + k);
                            }
                            if (i % 100 == 99) {
                                Thread.sleep(2);
                            }
                        }
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> future : done) {
                    future.get();
                }
            });
        } finally {
            threads.shutdownNow();
        }
        assertTrue(poolThreads() <= Math.max(poolThreadsBefore, CpuPool.cores() - 1),
                poolThreads() + " pool threads, " + poolThreadsBefore + " before");
    }

    private static long poolThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("gatehouse-matmul-")).count();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
