package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/** A small parameter (a bias, per-head norm weights): a tensor for the PyTorch ops, its values for the Java forward pass. */
record Param(NDArray tensor, float[] values) {
    static Param of(NDArray tensor) {
        NDArray f32 = tensor.toType(DataType.FLOAT32, false);
        float[] values = f32.toFloatArray();
        if (f32 != tensor) {
            f32.close();
        }
        return new Param(tensor, values);
    }
}
