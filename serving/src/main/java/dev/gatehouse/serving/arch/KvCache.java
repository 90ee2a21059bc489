package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer, preallocated as [slots, kvHeads, maxLength, headDim] so a step
 * writes its new positions in place and reads a view: no copy grows with the sequence. A sequence
 * owns one slot for its lifetime and zeroes it in its first forward pass ({@link #clear}); the
 * attention mask hides positions past its length.
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

    /**
     * Zeroes a slot for the sequence that has just taken it. The mask gives stale positions zero weight, but
     * 0 x NaN is NaN: an inf or NaN a previous sequence left (an FP16 overflow on GPU) would
     * otherwise poison the next one.
     */
    public void clear(int slot) {
        NDIndex whole = new NDIndex().addIndices(slot);
        for (int i = 0; i < keys.length; i++) {
            keys[i].set(whole, 0);
            values[i].set(whole, 0);
        }
    }

    /**
     * Where one step writes and reads in the cache, worked out once and shared by every layer:
     * {@code scatterSlots}/{@code scatterStarts} (decode of several sequences: cache[slot_b, :,
     * start_b, :] = new[b] in one op; null otherwise) and {@code gatherSlots} (the batch's slots when
     * they are not contiguous, else null: read as one view).
     */
    record Positions(StepBatch batch, StepUploads.Ref scatterSlots, StepUploads.Ref scatterStarts,
                     StepUploads.Ref gatherSlots) {

        NDIndex scatter() {
            return scatterSlots == null ? null : new NDIndex("{}, :, {}", scatterSlots.get(), scatterStarts.get());
        }

        NDIndex read() {
            int[] s = batch.slots();
            return gatherSlots == null
                    ? new NDIndex().addSliceDim(s[0], s[0] + s.length).addAllDim().addSliceDim(0, batch.span())
                    : new NDIndex("{}, :, :" + batch.span(), gatherSlots.get());
        }
    }

    /** The step's positions; their index arrays go with the step's other inputs. */
    Positions positions(StepBatch batch, StepUploads uploads) {
        int t = batch.tokensPerSeq();
        for (int b = 0; b < batch.batchSize(); b++) {
            if (batch.starts()[b] + t > maxLength) {
                throw new IllegalStateException("sequence exceeds the KV cache length " + maxLength);
            }
        }
        StepUploads.Ref scatterSlots = null;
        StepUploads.Ref scatterStarts = null;
        if (t == 1 && batch.batchSize() > 1) {
            Shape n = new Shape(batch.batchSize());
            scatterSlots = uploads.ints(batch.slots(), n);
            scatterStarts = uploads.ints(batch.starts(), n);
        }
        int[] s = batch.slots();
        boolean contiguous = true;
        for (int b = 1; b < s.length; b++) {
            contiguous &= s[b] == s[0] + b;
        }
        // Contiguous slots are read as a view; scattered ones are gathered through an index array (a copy).
        StepUploads.Ref gather = contiguous ? null : uploads.ints(s, new Shape(s.length));
        return new Positions(batch, scatterSlots, scatterStarts, gather);
    }

    /** Stores this step's keys and values, each [batch, tokensPerSeq, kvHeads, headDim]. */
    void write(int layer, NDArray k, NDArray v, Positions at) {
        StepBatch batch = at.batch();
        NDIndex scatter = at.scatter();
        if (scatter != null) {
            keys[layer].set(scatter, k.squeeze(1));
            values[layer].set(scatter, v.squeeze(1));
            return;
        }
        int t = batch.tokensPerSeq();
        for (int b = 0; b < batch.batchSize(); b++) {
            int start = batch.starts()[b];
            NDIndex slice = new NDIndex().addIndices(batch.slots()[b]).addAllDim().addSliceDim(start, start + t);
            keys[layer].set(slice, sequence(k, b, batch));
            values[layer].set(slice, sequence(v, b, batch));
        }
    }

    /** Sequence b's rows of a [batch, tokens, kvHeads, headDim] tensor as [kvHeads, tokens, headDim]. */
    private static NDArray sequence(NDArray x, int b, StepBatch batch) {
        NDArray rows = batch.batchSize() == 1 ? x.squeeze(0) : x.get(b);
        return rows.transpose(1, 0, 2);
    }

    /** Keys (index 0) or values (1) of the batch's slots up to the step's span: [batch, kvHeads, span, headDim]. */
    NDArray read(int layer, int which, Positions at, NDManager into) {
        return (which == 0 ? keys[layer] : values[layer]).get(into, at.read());
    }

    @Override
    public void close() {
        manager.close();
    }
}
