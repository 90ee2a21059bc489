package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer, preallocated as [slots, kvHeads, maxLength, headDim] so a step
 * writes its new positions in place and reads a view: no copy grows with the sequence. A sequence
 * owns one slot for its lifetime; positions past its length hold stale data that the attention
 * mask hides.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int slots;
    private final int maxLength;

    public KvCache(NDManager parent, int layers, int slots, int kvHeads, int maxLength, int headDim, DataType dtype) {
        this.manager = parent.newSubManager();
        this.slots = slots;
        this.maxLength = maxLength;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        Shape shape = new Shape(slots, kvHeads, maxLength, headDim);
        for (int i = 0; i < layers; i++) {
            keys[i] = manager.zeros(shape, dtype);
            values[i] = manager.zeros(shape, dtype);
        }
    }

    /** Bytes one position of one sequence takes across all layers. */
    public static long bytesPerToken(int layers, int kvHeads, int headDim, DataType dtype) {
        return 2L * layers * kvHeads * headDim * dtype.getNumOfBytes();
    }

    public int slots() {
        return slots;
    }

    public int maxLength() {
        return maxLength;
    }

    /** Stores this step's keys and values, each [batch, kvHeads, tokensPerSeq, headDim]. */
    void write(int layer, NDArray k, NDArray v, StepBatch batch, NDManager step) {
        int t = batch.tokensPerSeq();
        for (int b = 0; b < batch.batchSize(); b++) {
            if (batch.starts()[b] + t > maxLength) {
                throw new IllegalStateException("sequence exceeds the KV cache length " + maxLength);
            }
        }
        if (t == 1 && batch.batchSize() > 1) {
            // A decode step: one scatter per tensor, cache[slot_b, :, start_b, :] = new[b], not one copy per sequence.
            NDArray slots = step.create(batch.slots()).toType(DataType.INT64, false);
            NDArray starts = step.create(batch.starts()).toType(DataType.INT64, false);
            NDIndex at = new NDIndex("{}, :, {}", slots, starts);
            keys[layer].set(at, k.squeeze(2));
            values[layer].set(at, v.squeeze(2));
            return;
        }
        for (int b = 0; b < batch.batchSize(); b++) {
            int start = batch.starts()[b];
            NDIndex at = new NDIndex().addIndices(batch.slots()[b]).addAllDim().addSliceDim(start, start + t);
            keys[layer].set(at, batch.batchSize() == 1 ? k.squeeze(0) : k.get(step, b));
            values[layer].set(at, batch.batchSize() == 1 ? v.squeeze(0) : v.get(step, b));
        }
    }

    /** Keys (index 0) or values (1) of the batch's slots up to {@code span}: [batch, kvHeads, span, headDim]. */
    NDArray read(int layer, int which, StepBatch batch, int span, NDManager step) {
        NDArray all = which == 0 ? keys[layer] : values[layer];
        int[] s = batch.slots();
        boolean contiguous = true;
        for (int b = 1; b < s.length; b++) {
            contiguous &= s[b] == s[0] + b;
        }
        if (contiguous) {
            return all.get(step, new NDIndex().addSliceDim(s[0], s[0] + s.length).addAllDim().addSliceDim(0, span));
        }
        // Scattered slots: an index array gathers them (a copy, unlike the contiguous slice).
        NDArray index = step.create(s).toType(DataType.INT64, false);
        return all.get(step, new NDIndex("{}, :, :" + span, index));
    }

    @Override
    public void close() {
        manager.close();
    }
}
