package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** An RMSNorm's weight: a tensor for the PyTorch path, and its values for the Java one ({@link Weight#cpu()}). */
record RmsNorm(NDArray weight, float[] values, double eps) {
    static RmsNorm of(NDArray weight, double eps) {
        NDArray f32 = weight.toType(DataType.FLOAT32, false);
        float[] values = f32.toFloatArray();
        if (f32 != weight) {
            f32.close();
        }
        return new RmsNorm(weight, values, eps);
    }

    NDArray apply(NDArray x) {
        return Layers.rmsNorm(x, weight, eps);
    }
}
