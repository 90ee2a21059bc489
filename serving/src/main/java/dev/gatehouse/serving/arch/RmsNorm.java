package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;

/** An RMSNorm's weight: a tensor for the PyTorch path, and its values for the Java one ({@link Weight#cpu()}). */
record RmsNorm(NDArray weight, float[] values, double eps) {
    static RmsNorm of(NDArray weight, double eps) {
        return new RmsNorm(weight, Param.of(weight).values(), eps);
    }

    NDArray apply(NDArray x) {
        return Layers.rmsNorm(x, weight, eps);
    }
}
