package dev.gatehouse.serving.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.Sampler;

/**
 * Brings a step's logits [batch, vocab] to the host only as far as each row's sampler needs them
 * ({@link Sampler#candidatesNeeded}): greedy rows as one argmax id,
 * top-k rows as their k largest logits (top-k on the device), and the whole row only for the
 * samplers that need it. On a GPU that is 16 x 151,936 floats (9.7 MB, synchronous) per decode
 * step cut to 16 ids when every stream is greedy.
 */
final class LogitsReadback {
    /** A row nobody samples from (a prompt chunk that is not the prompt's last). */
    static final int NONE = -1;
    /** A row read back whole. */
    static final int FULL = 0;

    /**
     * One row on the host: {@code full} when it was read whole, else its candidates largest first
     * ({@code values} null for an argmax). All null for a {@link #NONE} row.
     */
    record Row(float[] full, int[] ids, float[] values) {
        /** The sampler's next token from this row (it may overwrite a full row). */
        SampledToken sample(Sampler sampler) {
            return full != null ? sampler.sample(full) : sampler.sampleTop(ids, values);
        }
    }

    private LogitsReadback() {}

    /** @param needs per row: {@link #NONE}, {@link #FULL} or how many of its largest logits */
    static Row[] read(NDArray logits, int[] needs) {
        int n = needs.length;
        int vocab = Math.toIntExact(logits.getShape().get(1));
        Row[] rows = new Row[n];
        int maxK = 0;
        int full = 0;
        boolean onlyGreedy = true;
        for (int need : needs) {
            maxK = Math.max(maxK, need);
            full += need == FULL ? 1 : 0;
            onlyGreedy &= need == 1 || need == NONE;
        }
        maxK = Math.min(maxK, vocab);
        if (maxK > 0 && onlyGreedy) {
            long[] ids = logits.argMax(1).toLongArray();
            for (int b = 0; b < n; b++) {
                rows[b] = needs[b] == 1 ? new Row(null, new int[] {(int) ids[b]}, null) : new Row(null, null, null);
            }
            return rows;
        }
        if (maxK > 0) {
            NDList top = logits.topK(maxK, 1, true, true);
            float[] values = top.get(0).toFloatArray();
            long[] ids = top.get(1).toType(DataType.INT64, false).toLongArray();
            for (int b = 0; b < n; b++) {
                if (needs[b] > 0) {
                    int k = Math.min(needs[b], vocab);
                    int[] rowIds = new int[k];
                    float[] rowValues = new float[k];
                    for (int j = 0; j < k; j++) {
                        rowIds[j] = (int) ids[b * maxK + j];
                        rowValues[j] = values[b * maxK + j];
                    }
                    rows[b] = new Row(null, rowIds, rowValues);
                }
            }
        }
        if (full > 0) {
            int[] which = new int[full];
            for (int b = 0, i = 0; b < n; b++) {
                if (needs[b] == FULL) {
                    which[i++] = b;
                }
            }
            float[] flat = full == n ? logits.toFloatArray()
                    : logits.get(new NDIndex("{}", logits.getManager().create(which).toType(DataType.INT64, false)))
                            .toFloatArray();
            for (int i = 0; i < full; i++) {
                float[] row = new float[vocab];
                System.arraycopy(flat, i * vocab, row, 0, vocab);
                rows[which[i]] = new Row(row, null, null);
            }
        }
        for (int b = 0; b < n; b++) {
            if (rows[b] == null) {
                rows[b] = new Row(null, null, null);
            }
        }
        return rows;
    }
}
