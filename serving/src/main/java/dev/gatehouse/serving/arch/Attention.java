package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention over the KV cache with grouped-query heads: the query heads that
 * share a key/value head are folded into one matmul ([groups * tokens, headDim] x [headDim, span])
 * instead of repeating keys and values.
 */
final class Attention {
    private Attention() {}

    /**
     * The additive mask [batch, 1, 1, tokensPerSeq, span] hiding future positions, other sequences'
     * shorter tails and positions outside a sliding window; null when every position is visible
     * (a single-token decode of one sequence, or of equally long ones).
     */
    static NDArray mask(StepBatch batch, Integer window, NDManager step, DataType dtype) {
        int t = batch.tokensPerSeq();
        int span = batch.span();
        boolean needed = t > 1 || (window != null && span > window);
        for (int s : batch.starts()) {
            needed |= s + t != span;
        }
        if (!needed) {
            return null;
        }
        float[] mask = new float[batch.batchSize() * t * span];
        int i = 0;
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int j = 0; j < t; j++) {
                int pos = batch.starts()[b] + j;
                for (int key = 0; key < span; key++, i++) {
                    boolean visible = key <= pos && (window == null || pos - key < window);
                    mask[i] = visible ? 0f : Float.NEGATIVE_INFINITY;
                }
            }
        }
        return step.create(mask, new Shape(batch.batchSize(), 1, 1, t, span)).toType(dtype, false);
    }

    /**
     * @param q [batch, tokens, heads, headDim]
     * @param k [batch, tokens, kvHeads, headDim], stored into the cache first
     * @param v like k
     * @return [batch, tokens, heads * headDim]
     */
    static NDArray run(NDArray q, NDArray k, NDArray v, KvCache cache, int layer, StepBatch batch,
                       NDArray mask, NDManager step) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        long heads = q.getShape().get(2);
        long headDim = q.getShape().get(3);
        long kvHeads = k.getShape().get(2);
        long groups = heads / kvHeads;
        cache.write(layer, k.transpose(0, 2, 1, 3), v.transpose(0, 2, 1, 3), batch, step);
        int span = batch.span();
        NDArray keys = cache.read(layer, 0, batch, span, step);
        NDArray values = cache.read(layer, 1, batch, span, step);

        NDArray query = q.mul(1.0 / Math.sqrt(headDim)).transpose(0, 2, 1, 3)
                .reshape(new Shape(b, kvHeads, groups * t, headDim));
        NDArray scores = query.matMul(keys.transpose(0, 1, 3, 2));
        if (mask != null) {
            scores = scores.reshape(new Shape(b, kvHeads, groups, t, span)).add(mask)
                    .reshape(new Shape(b, kvHeads, groups * t, span));
        }
        NDArray out = scores.softmax(-1).matMul(values);
        return out.reshape(new Shape(b, heads, t, headDim)).transpose(0, 2, 1, 3)
                .reshape(new Shape(b, t, heads * headDim));
    }
}
