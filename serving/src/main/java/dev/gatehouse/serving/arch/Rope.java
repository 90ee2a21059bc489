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

    /**
     * cos and sin of every new token's angles, [batch x tokensPerSeq, headDim / 2] each: the one angle
     * computation both paths use.
     */
    float[][] halfAngles(StepBatch batch) {
        int half = invFreq.length;
        int t = batch.tokensPerSeq();
        float[] cos = new float[batch.batchSize() * t * half];
        float[] sin = new float[cos.length];
        int i = 0;
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int j = 0; j < t; j++, i += half) {
                long pos = batch.starts()[b] + j;
                for (int f = 0; f < half; f++) {
                    double angle = pos * invFreq[f];
                    cos[i + f] = (float) Math.cos(angle);
                    sin[i + f] = (float) Math.sin(angle);
                }
            }
        }
        return new float[][] {cos, sin};
    }

    /** {@link #halfAngles} repeated for both halves, to go with the step's uploads: two arrays [batch, tokensPerSeq, 1, headDim]. */
    StepUploads.Ref[] angles(StepBatch batch, StepUploads uploads) {
        float[][] halves = halfAngles(batch);
        int half = invFreq.length;
        int rows = halves[0].length / half;
        float[] cos = new float[rows * 2 * half];
        float[] sin = new float[cos.length];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < 2; k++) {
                System.arraycopy(halves[0], r * half, cos, (2 * r + k) * half, half);
                System.arraycopy(halves[1], r * half, sin, (2 * r + k) * half, half);
            }
        }
        Shape shape = new Shape(batch.batchSize(), batch.tokensPerSeq(), 1, 2L * half);
        return new StepUploads.Ref[] {uploads.floats(cos, shape), uploads.floats(sin, shape)};
    }

    /**
     * Rotates {@code heads} consecutive head vectors of {@code x} from {@code at} in place by angle row
     * {@code angleRow} of {@link #halfAngles}: x * cos + rotate_half(x) * sin, as {@link #apply} does.
     */
    void rotate(float[] x, int at, int heads, float[][] halfAngles, int angleRow) {
        int half = invFreq.length;
        float[] cos = halfAngles[0];
        float[] sin = halfAngles[1];
        int a = angleRow * half;
        for (int h = 0; h < heads; h++, at += 2 * half) {
            for (int f = 0; f < half; f++) {
                float x1 = x[at + f];
                float x2 = x[at + half + f];
                x[at + f] = x1 * cos[a + f] - x2 * sin[a + f];
                x[at + half + f] = x2 * cos[a + f] + x1 * sin[a + f];
            }
        }
    }

    /** Rotates x [batch, tokens, heads, headDim] by the step's angles. */
    NDArray apply(NDArray x, StepUploads.Ref[] cosSin) {
        return x.mul(cosSin[0].get()).add(x.matMul(rotateHalf).mul(cosSin[1].get()));
    }
}
