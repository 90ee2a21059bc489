package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Scaled dot-product attention of one forward pass over the KV cache, with grouped-query heads:
 * the query heads that share a key/value head are folded into one matmul ([groups * tokens,
 * headDim] x [headDim, span]) instead of repeating keys and values. What every layer shares (the
 * masks, the cache positions) is prepared once per step before layer 0 and sent with the step's
 * other inputs ({@link StepUploads}), since each DJL op is a JNI call and each upload a round trip.
 */
final class Attention {
    private final StepBatch batch;
    private final KvCache cache;
    private final KvCache.Positions positions;
    private final long heads;
    private final long kvHeads;
    private final long headDim;
    private final StepUploads.Ref fullMask; // null when no layer attends to everything, or nothing is hidden
    private final StepUploads.Ref windowMask;

    /**
     * @param window     the sliding window of the windowed layers, null when none is
     * @param usesFull   whether some layer attends to the whole sequence
     */
    Attention(StepBatch batch, KvCache cache, int heads, int kvHeads, int headDim, Integer window, boolean usesFull,
              StepUploads uploads) {
        this.batch = batch;
        this.cache = cache;
        this.positions = cache.positions(batch, uploads);
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.fullMask = usesFull ? mask(batch, null, uploads) : null;
        this.windowMask = window != null ? mask(batch, window, uploads) : null;
    }

    /**
     * The additive mask hiding future positions, other sequences' shorter tails and positions
     * outside a sliding window: [batch, 1, 1, span] for one token per sequence (it broadcasts over
     * the folded query rows), else [batch, 1, 1, tokensPerSeq, span] (it broadcasts over the query
     * groups once the scores are unfolded); null when every position is visible (a single-token
     * decode of equally long sequences).
     */
    static StepUploads.Ref mask(StepBatch batch, Integer window, StepUploads uploads) {
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
        return uploads.floats(mask, shape);
    }

    /**
     * @param q [batch, tokens, heads, headDim]
     * @param k [batch, tokens, kvHeads, headDim], stored into the cache first
     * @param v like k
     * @param windowed whether this layer sees only the sliding window (the window given at construction)
     * @param layerManager where the cache views of this layer live (closed when the layer ends)
     * @return [batch, tokens, heads * headDim]
     */
    NDArray run(int layer, NDArray q, NDArray k, NDArray v, boolean windowed, NDManager layerManager) {
        long b = batch.batchSize();
        long t = batch.tokensPerSeq();
        long span = batch.span();
        long groups = heads / kvHeads;
        cache.write(layer, k, v, positions);
        NDArray keys = cache.read(layer, 0, positions, layerManager);
        NDArray values = cache.read(layer, 1, positions, layerManager);

        // Query rows ordered (kvHead, group, token); head h is kvHead * groups + group, so with one
        // token per sequence this is a plain reshape.
        NDArray query = t == 1 ? q.reshape(b, kvHeads, groups, headDim)
                : q.transpose(0, 2, 1, 3).reshape(b, kvHeads, groups * t, headDim);
        NDArray scores = query.mul(1.0 / Math.sqrt(headDim)).matMul(keys.transpose(0, 1, 3, 2));
        StepUploads.Ref maskRef = windowed ? windowMask : fullMask;
        if (maskRef != null) {
            NDArray mask = maskRef.get();
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
