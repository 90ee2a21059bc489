package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.load.RopeScaling;

/**
 * Rotary position embedding in transformers' "rotate half" form: the head dimension's first and
 * second halves are the two coordinates of each rotated pair. The angles of a step's positions are
 * computed in Java once per step and shared by all layers.
 */
final class Rope {
    private final double[] invFreq;

    Rope(int headDim, double theta, RopeScaling scaling) {
        invFreq = new double[headDim / 2];
        for (int i = 0; i < invFreq.length; i++) {
            invFreq[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
        if (scaling != null) {
            scaling.apply(invFreq);
        }
    }

    /** cos and sin of every new token's angles: two arrays [batch, tokensPerSeq, 1, headDim / 2]. */
    NDArray[] angles(StepBatch batch, NDManager step, DataType dtype) {
        int half = invFreq.length;
        int t = batch.tokensPerSeq();
        float[] cos = new float[batch.batchSize() * t * half];
        float[] sin = new float[cos.length];
        int i = 0;
        for (int b = 0; b < batch.batchSize(); b++) {
            for (int j = 0; j < t; j++) {
                long pos = batch.starts()[b] + j;
                for (int f = 0; f < half; f++, i++) {
                    double angle = pos * invFreq[f];
                    cos[i] = (float) Math.cos(angle);
                    sin[i] = (float) Math.sin(angle);
                }
            }
        }
        Shape shape = new Shape(batch.batchSize(), t, 1, half);
        return new NDArray[] {step.create(cos, shape).toType(dtype, false), step.create(sin, shape).toType(dtype, false)};
    }

    /** Rotates x [batch, tokens, heads, headDim] by the step's angles. */
    static NDArray apply(NDArray x, NDArray[] cosSin) {
        long half = x.getShape().get(3) / 2;
        NDArray x1 = x.get(new NDIndex("..., :" + half));
        NDArray x2 = x.get(new NDIndex("..., " + half + ":"));
        NDArray cos = cosSin[0];
        NDArray sin = cosSin[1];
        return x1.mul(cos).sub(x2.mul(sin)).concat(x2.mul(cos).add(x1.mul(sin)), -1);
    }
}
