package dev.gatehouse.serving.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.arch.KvCache;

/**
 * What reading the KV cache through block tables costs a decode step: one layer's keys for a batch
 * of sequences and the scores matmul, read from the old whole-slot cache (a strided view) and from
 * a block pool three ways (rows of a head-major pool, as {@code KvCache} does; rows of a
 * position-major pool; whole blocks), in one process, alternating. SmolLM2-135M's attention shape
 * (3 KV heads of 64, 3 query heads per KV head). Run with {@code scripts/bench-kv-gather}.
 */
public final class KvGatherBench {
    public static void main(String[] args) {
        int kvHeads = 3;
        int headDim = 64;
        int groups = 3;
        int[] batches = {1, 4, 16};
        int[] spans = {128, 1024};
        int iterations = Integer.getInteger("bench.iterations", 200);
        System.out.printf("%nKV read for one layer's attention scores, FP32 on CPU (%d cores), µs per read (median of 5 x %d)%n%n",
                Runtime.getRuntime().availableProcessors(), iterations);
        System.out.println("| batch | positions per sequence | whole slots (view) µs | head-major pool, gather µs | / view "
                + "| position-major pool, gather µs | / view | whole blocks gathered µs | / view |");
        System.out.println("|---|---|---|---|---|---|---|---|---|");
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int span : spans) {
                for (int batch : batches) {
                    int blocksPerSeq = KvCache.blocksFor(span);
                    NDArray slots = manager.randomNormal(new Shape(batch, kvHeads, 2L * span, headDim)); // slots longer than used
                    NDArray pool = manager.randomNormal(new Shape(kvHeads, (long) (batch * blocksPerSeq + 1) * KvCache.BLOCK_SIZE, headDim));
                    int[] rows = new int[batch * span];
                    for (int b = 0; b < batch; b++) { // each sequence's blocks interleaved with the others', as after churn
                        for (int p = 0; p < span; p++) {
                            int block = (p / KvCache.BLOCK_SIZE) * batch + b;
                            rows[b * span + p] = block * KvCache.BLOCK_SIZE + p % KvCache.BLOCK_SIZE;
                        }
                    }
                    NDArray index = manager.create(rows).toType(DataType.INT64, false);
                    NDArray rowPool = manager.randomNormal(new Shape((long) (batch * blocksPerSeq + 1) * KvCache.BLOCK_SIZE, kvHeads, headDim));
                    NDArray queryT = manager.randomNormal(new Shape(batch, kvHeads, headDim, groups));
                    double[] view = new double[5];
                    double[] gather = new double[5];
                    double[] rowGather = new double[5];
                    double[] blockGather = new double[5];
                    int[] blockIds = new int[batch * blocksPerSeq];
                    for (int b = 0; b < batch; b++) {
                        for (int j = 0; j < blocksPerSeq; j++) {
                            blockIds[b * blocksPerSeq + j] = j * batch + b;
                        }
                    }
                    NDArray blockIndex = manager.create(blockIds).toType(DataType.INT64, false);
                    NDArray blockPool = rowPool.reshape(batch * blocksPerSeq + 1, (long) KvCache.BLOCK_SIZE * kvHeads * headDim);
                    for (int round = 0; round < 5; round++) {
                        view[round] = time(manager, iterations,
                                m -> slots.get(m, new NDIndex().addAllDim().addAllDim().addSliceDim(0, span)).matMul(queryT));
                        gather[round] = time(manager, iterations, m -> pool.get(m, new NDIndex(":, {}", index))
                                .reshape(kvHeads, batch, span, headDim).transpose(1, 0, 2, 3).matMul(queryT));
                        rowGather[round] = time(manager, iterations, m -> rowPool.get(m, new NDIndex("{}", index))
                                .reshape(batch, span, kvHeads, headDim).transpose(0, 2, 1, 3).matMul(queryT));
                        blockGather[round] = time(manager, iterations, m -> blockPool.get(m, new NDIndex("{}", blockIndex))
                                .reshape(batch, (long) blocksPerSeq * KvCache.BLOCK_SIZE, kvHeads, headDim)
                                .get(new NDIndex(":, :" + span)).transpose(0, 2, 1, 3).matMul(queryT));
                    }
                    double v = median(view);
                    double g = median(gather);
                    double r = median(rowGather);
                    double k = median(blockGather);
                    System.out.printf("| %d | %d | %.0f | %.0f | %.2f | %.0f | %.2f | %.0f | %.2f |%n", batch, span, v, g, g / v, r, r / v, k, k / v);
                }
            }
        }
    }

    /** Mean µs of {@code op} after 10 warm-up runs, each run's arrays in a sub-manager closed after it (as a step's are). */
    private static double time(NDManager parent, int iterations, java.util.function.Function<NDManager, NDArray> op) {
        run(parent, 10, op);
        long start = System.nanoTime();
        run(parent, iterations, op);
        return (System.nanoTime() - start) / 1e3 / iterations;
    }

    private static void run(NDManager parent, int times, java.util.function.Function<NDManager, NDArray> op) {
        for (int i = 0; i < times; i++) {
            try (NDManager m = parent.newSubManager()) {
                op.apply(m).toFloatArray(); // forces the work, as reading the logits does
            }
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }
}
