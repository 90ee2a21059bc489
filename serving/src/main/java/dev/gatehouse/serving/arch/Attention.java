package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention of one forward pass over the KV cache, with grouped-query heads:
 * the query heads that share a key/value head are folded into one matmul ([groups * tokens,
 * headDim] x [headDim, span]) instead of repeating keys and values. What every layer shares (the
 * mask, the cache positions) is built once per step, since each DJL op is a JNI call.
 */
final class Attention {
    private final StepBatch batch;
    private final KvCache cache;
    private final KvCache.Positions positions;
    private final Integer window;
    private final NDManager step;
    private final DataType dtype;
    private final long heads;
    private final long kvHeads;
    private final long headDim;
    private NDArray fullMask; // built on first use: a model may use only one of the two
    private NDArray windowMask;
    private boolean fullMaskBuilt;
    private boolean windowMaskBuilt;

    Attention(StepBatch batch, KvCache cache, int heads, int kvHeads, int headDim, Integer window,
              NDManager step, DataType dtype) {
        this.batch = batch;
        this.cache = cache;
        this.positions = cache.positions(batch, step);
        this.window = window;
        this.step = step;
        this.dtype = dtype;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    private NDArray mask(boolean windowed) {
        if (windowed) {
            if (!windowMaskBuilt) {
                windowMask = mask(batch, window, step, dtype);
                windowMaskBuilt = true;
            }
            return windowMask;
        }
        if (!fullMaskBuilt) {
            fullMask = mask(batch, null, step, dtype);
            fullMaskBuilt = true;
        }
        return fullMask;
    }

    /**
     * The additive mask hiding future positions, other sequences' shorter tails and positions
     * outside a sliding window: [batch, 1, 1, span] for one token per sequence (it broadcasts over
     * the folded query rows), else [batch, 1, 1, tokensPerSeq, span] (it broadcasts over the query
     * groups once the scores are unfolded); null when every position is visible (a single-token
     * decode of equally long sequences).
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
        Shape shape = t == 1 ? new Shape(batch.batchSize(), 1, 1, span) : new Shape(batch.batchSize(), 1, 1, t, span);
        return step.create(mask, shape).toType(dtype, false);
    }

    /**
     * @param q [batch, tokens, heads, headDim]
     * @param k [batch, tokens, kvHeads, headDim], stored into the cache first
     * @param v like k
     * @param windowed whether this layer sees only the sliding window (the window given at construction)
     * @return [batch, tokens, heads * headDim]
     */
    NDArray run(int layer, NDArray q, NDArray k, NDArray v, boolean windowed) {
        long b = batch.batchSize();
        long t = batch.tokensPerSeq();
        long span = batch.span();
        long groups = heads / kvHeads;
        cache.write(layer, k, v, positions);
        NDArray keys = cache.read(layer, 0, positions);
        NDArray values = cache.read(layer, 1, positions);

        // Query rows ordered (kvHead, group, token); head h is kvHead * groups + group, so with one
        // token per sequence this is a plain reshape.
        NDArray query = t == 1 ? q.reshape(b, kvHeads, groups, headDim)
                : q.transpose(0, 2, 1, 3).reshape(b, kvHeads, groups * t, headDim);
        NDArray scores = query.mul(1.0 / Math.sqrt(headDim)).matMul(keys.transpose(0, 1, 3, 2));
        NDArray mask = mask(windowed);
        if (mask != null) {
            scores = t == 1 ? scores.add(mask)
                    : scores.reshape(b, kvHeads, groups, t, span).add(mask).reshape(b, kvHeads, groups * t, span);
        }
        // On FP16 tensors PyTorch's softmax accumulates in FP32 (acc_type) and returns FP16 probabilities
        NDArray out = scores.softmax(-1).matMul(values);
        if (t == 1) {
            return out.reshape(b, 1, heads * headDim);
        }
        return out.reshape(b, heads, t, headDim).transpose(0, 2, 1, 3).reshape(b, t, heads * headDim);
    }
}
