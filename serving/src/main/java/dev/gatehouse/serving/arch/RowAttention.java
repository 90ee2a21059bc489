package dev.gatehouse.serving.arch;

import dev.gatehouse.serving.cpu.CpuPool;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Attention of one forward pass on float[] rows, over the {@link KvCache}'s blocks read in place: the
 * Java counterpart of {@link Attention}, for the Java forward pass. Each (sequence, key/value head)
 * is one task: it stores its new keys and values in the sequence's blocks, then walks the blocks its
 * queries can see, one block ({@link KvCache#BLOCK_SIZE} positions) at a time, copying its keys and
 * values into L1 (on Java 21 a vector cannot load from a direct buffer) and folding it into a running
 * softmax (flash attention's online form), so no score matrix [tokens, span] is ever held and a
 * sequence never reads positions past its own end or outside its window.
 */
final class RowAttention {
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = FLOATS.length();
    private static final int B = KvCache.BLOCK_SIZE;
    /** Multiply-adds below which the (sequence, head) tasks run on the calling thread: waking a core costs more. */
    private static final long PARALLEL_WORK = 1 << 17;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final StepBatch batch;
    private final KvCache cache;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final int groups;
    private final float scale;

    /** Checks every block the step touches against the pool, so the tasks index it without checks. */
    RowAttention(StepBatch batch, KvCache cache, int heads, int kvHeads, int headDim) {
        this.batch = batch;
        this.cache = cache;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.groups = heads / kvHeads;
        this.scale = (float) (1 / Math.sqrt(headDim));
        int t = batch.tokensPerSeq();
        for (int b = 0; b < batch.batchSize(); b++) {
            int[] table = batch.blockTables()[b];
            int end = batch.starts()[b] + t;
            if (KvCache.blocksFor(end) > table.length) {
                throw new IllegalStateException("sequence " + b + " writes position " + (end - 1) + " but holds "
                        + table.length + " blocks of " + B);
            }
            for (int i = 0; i < KvCache.blocksFor(end); i++) {
                cache.row(table, i * B); // throws for a block outside the pool
            }
        }
    }

    /**
     * @param qkv    [batch x tokensPerSeq, (heads + 2 kvHeads) x headDim]: every new token's queries, keys and values, rotated
     * @param window keys a query sees, itself included; 0 for all of them
     * @param out    [batch x tokensPerSeq, heads x headDim]
     */
    void run(int layer, float[] qkv, int window, float[] out) {
        FloatBuffer keys = cache.pool(layer, 0);
        FloatBuffer values = cache.pool(layer, 1);
        int tasks = batch.batchSize() * kvHeads;
        long work = (long) batch.batchSize() * batch.tokensPerSeq() * heads * headDim * 2L
                * Math.min(batch.span(), window > 0 ? window : Integer.MAX_VALUE);
        if (work < PARALLEL_WORK) {
            for (int task = 0; task < tasks; task++) {
                sequenceHead(task / kvHeads, task % kvHeads, keys, values, qkv, window, out);
            }
        } else {
            CpuPool.forEach(tasks, task -> sequenceHead(task / kvHeads, task % kvHeads, keys, values, qkv, window, out));
        }
    }

    /** Sequence b's queries of the heads that share key/value head g: store its new keys and values, then attend. */
    private void sequenceHead(int b, int g, FloatBuffer keys, FloatBuffer values, float[] qkv, int window, float[] out) {
        int t = batch.tokensPerSeq();
        int start = batch.starts()[b];
        int[] table = batch.blockTables()[b];
        int width = (heads + 2 * kvHeads) * headDim;
        int headRows = g * cache.poolRows();
        for (int j = 0; j < t; j++) {
            int p = start + j;
            int at = (headRows + table[p / B] * B + p % B) * headDim;
            int row = (b * t + j) * width;
            keys.put(at, qkv, row + (heads + g) * headDim, headDim);
            values.put(at, qkv, row + (heads + kvHeads + g) * headDim, headDim);
        }

        int queries = t * groups; // (token, group) pairs, each a running softmax
        Scratch s = SCRATCH.get().size(queries, headDim);
        Arrays.fill(s.max, 0, queries, Float.NEGATIVE_INFINITY);
        Arrays.fill(s.sum, 0, queries, 0f);
        Arrays.fill(s.acc, 0, queries * headDim, 0f);
        int end = start + t;
        int first = window > 0 ? Math.max(0, start - window + 1) : 0;
        for (int block = first / B; block * B < end; block++) {
            int p0 = block * B;
            int n = Math.min(B, end - p0);
            int at = (headRows + table[block] * B) * headDim;
            keys.get(at, s.keys, 0, n * headDim);
            values.get(at, s.values, 0, n * headDim);
            for (int j = 0; j < t; j++) {
                int pos = start + j;
                int from = Math.max(p0, window > 0 ? pos - window + 1 : 0) - p0; // visible keys of the block: from..to-1
                int to = Math.min(n, pos - p0 + 1);
                if (from >= to) {
                    continue;
                }
                for (int q = 0; q < groups; q++) {
                    int query = (b * t + j) * width + (g * groups + q) * headDim;
                    foldBlock(s, j * groups + q, qkv, query, from, to);
                }
            }
        }
        for (int j = 0; j < t; j++) {
            for (int q = 0; q < groups; q++) {
                int i = j * groups + q;
                float inverse = 1 / s.sum[i];
                int o = (b * t + j) * heads * headDim + (g * groups + q) * headDim;
                for (int d = 0; d < headDim; d++) {
                    out[o + d] = s.acc[i * headDim + d] * inverse;
                }
            }
        }
    }

    /** Folds keys from..to-1 of the block in {@code s} into running softmax {@code i} of the query at {@code query}. */
    private void foldBlock(Scratch s, int i, float[] qkv, int query, int from, int to) {
        float blockMax = Float.NEGATIVE_INFINITY;
        for (int k = from; k < to; k++) {
            float score = dot(qkv, query, s.keys, k * headDim) * scale;
            s.scores[k] = score;
            blockMax = Math.max(blockMax, score);
        }
        float oldMax = s.max[i];
        float newMax = Math.max(oldMax, blockMax);
        float correction = oldMax == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(oldMax - newMax);
        float sum = s.sum[i] * correction;
        int acc = i * headDim;
        if (correction != 1f) {
            scaleRow(s.acc, acc, correction);
        }
        for (int k = from; k < to; k++) {
            float weight = (float) Math.exp(s.scores[k] - newMax);
            sum += weight;
            addScaled(s.acc, acc, s.values, k * headDim, weight);
        }
        s.max[i] = newMax;
        s.sum[i] = sum;
    }

    private float dot(float[] a, int a0, float[] b, int b0) {
        int bound = headDim - headDim % LANES;
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int d = 0; d < bound; d += LANES) {
            acc = FloatVector.fromArray(FLOATS, a, a0 + d).fma(FloatVector.fromArray(FLOATS, b, b0 + d), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int d = bound; d < headDim; d++) {
            sum += a[a0 + d] * b[b0 + d];
        }
        return sum;
    }

    private void scaleRow(float[] x, int at, float factor) {
        int bound = headDim - headDim % LANES;
        for (int d = 0; d < bound; d += LANES) {
            FloatVector.fromArray(FLOATS, x, at + d).mul(factor).intoArray(x, at + d);
        }
        for (int d = bound; d < headDim; d++) {
            x[at + d] *= factor;
        }
    }

    /** {@code x[at..] += weight * v[v0..]} over one head vector. */
    private void addScaled(float[] x, int at, float[] v, int v0, float weight) {
        int bound = headDim - headDim % LANES;
        for (int d = 0; d < bound; d += LANES) {
            FloatVector.fromArray(FLOATS, v, v0 + d).fma(FloatVector.broadcast(FLOATS, weight), FloatVector.fromArray(FLOATS, x, at + d)).intoArray(x, at + d);
        }
        for (int d = bound; d < headDim; d++) {
            x[at + d] += weight * v[v0 + d];
        }
    }

    /** A thread's running softmaxes and the block in L1, grown to the largest step it has run. */
    private static final class Scratch {
        float[] max = new float[0];
        float[] sum = new float[0];
        float[] acc = new float[0];
        float[] keys = new float[0];
        float[] values = new float[0];
        final float[] scores = new float[B];

        Scratch size(int queries, int headDim) {
            if (max.length < queries) {
                max = new float[queries];
                sum = new float[queries];
            }
            if (acc.length < queries * headDim) {
                acc = new float[queries * headDim];
            }
            if (keys.length < B * headDim) {
                keys = new float[B * headDim];
                values = new float[B * headDim];
            }
            return this;
        }
    }
}
