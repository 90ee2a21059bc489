package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.load.RopeScaling;

/**
 * Rotary position embedding in transformers' "rotate half" form: x * cos + rotate_half(x) * sin,
 * where the head dimension's first and second halves are the two coordinates of each rotated pair.
 * rotate_half(x) = [-x2, x1] is one matmul with a fixed signed permutation matrix (exact: each
 * output picks one input), which costs four ops per layer instead of splitting and joining halves.
 * The angles of a step's positions are computed in Java once per step and shared by all layers.
 */
final class Rope {
    private final double[] invFreq;
    private final NDArray rotateHalf;

    Rope(int headDim, double theta, RopeScaling scaling, NDManager manager, DataType dtype) {
        invFreq = new double[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            invFreq[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
        if (scaling != null) {
            scaling.apply(invFreq);
        }
        int half = headDim / 2;
        float[] matrix = new float[headDim * headDim]; // x @ matrix: out[i] = -x[i + half], out[i + half] = x[i]
        for (int i = 0; i < half; i++) {
            matrix[(i + half) * headDim + i] = -1f;
            matrix[i * headDim + i + half] = 1f;
        }
        rotateHalf = manager.create(matrix, new Shape(headDim, headDim)).toType(dtype, false);
    }

    /** cos and sin of every new token's angles, repeated for both halves: two arrays [batch, tokensPerSeq, 1, headDim]. */
    StepUploads.Ref[] angles(StepBatch batch, StepUploads uploads) {
        int half = invFreq.length;
        int dim = 2 * half;
        int t = batch.tokensPerSeq();
        float[] cos = new float[batch.batchSize() * t * dim];
        float[] sin = new float[cos.length];
        int i = 0;
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int j = 0; j < t; j++, i += dim) {
                long pos = batch.starts()[b] + j;
                for (int f = 0; f < half; f++) {
                    double angle = pos * invFreq[f];
                    cos[i + f] = cos[i + half + f] = (float) Math.cos(angle);
                    sin[i + f] = sin[i + half + f] = (float) Math.sin(angle);
                }
            }
        }
        Shape shape = new Shape(batch.batchSize(), t, 1, dim);
        return new StepUploads.Ref[] {uploads.floats(cos, shape), uploads.floats(sin, shape)};
    }

    /** Rotates x [batch, tokens, heads, headDim] by the step's angles. */
    NDArray apply(NDArray x, StepUploads.Ref[] cosSin) {
        return x.mul(cosSin[0].get()).add(x.matMul(rotateHalf).mul(cosSin[1].get()));
    }
}
