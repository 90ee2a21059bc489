package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;

/**
 * Tensor building blocks shared by the architectures. DJL has no fused RMSNorm, SiLU or gelu_new,
 * so they are composed from a handful of ops; each op is one JNI call, so nothing here loops over
 * heads or elements. Results live in the manager of the first argument (the step's).
 */
public final class Layers {
    private static final double SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

    private Layers() {}

    /** x @ weight^T (+ bias), weights in Hugging Face's [out, in] layout. */
    public static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    public static NDArray embedding(NDArray ids, NDArray table) {
        return Embedding.embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /** RMSNorm over the last axis, computed in FP32 as transformers does, then scaled by {@code weight}. */
    public static NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
        DataType type = x.getDataType();
        NDArray x32 = type == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
        NDArray inverseRms = x32.square().mean(new int[] {-1}, true).add(eps).pow(-0.5);
        NDArray normed = x32.mul(inverseRms);
        return (type == DataType.FLOAT32 ? normed : normed.toType(type, false)).mul(weight);
    }

    public static NDArray silu(NDArray x) {
        return x.mul(x.getNDArrayInternal().sigmoid());
    }

    /** GPT-2's tanh approximation of GELU ("gelu_new"). */
    public static NDArray geluNew(NDArray x) {
        NDArray inner = x.add(x.pow(3).mul(0.044715)).mul(SQRT_2_OVER_PI);
        return x.mul(inner.tanh().add(1)).mul(0.5);
    }
}
