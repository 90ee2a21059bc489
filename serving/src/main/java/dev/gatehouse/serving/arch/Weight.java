package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.cpu.CpuMatrix;
import dev.gatehouse.serving.cpu.RowOps;

/**
 * A matrix in Hugging Face's [out, in] layout, used as a linear layer's weight or an embedding
 * table: a PyTorch tensor, or data kept as stored (F32, BF16, F16) and multiplied by {@link CpuMatrix}
 * on the CPU. Around such a matrix the activations go from PyTorch to a float[] and back, so the rest
 * of the model (attention above all) stays in PyTorch whatever holds the weights.
 */
final class Weight {
    private final NDArray tensor;
    private final CpuMatrix matrix;

    private Weight(NDArray tensor, CpuMatrix matrix) {
        this.tensor = tensor;
        this.matrix = matrix;
    }

    static Weight of(NDArray tensor) {
        return new Weight(tensor, null);
    }

    static Weight of(CpuMatrix matrix) {
        return new Weight(null, matrix);
    }

    /** The matrix the Java kernels multiply, or null when PyTorch holds it. */
    CpuMatrix cpu() {
        return matrix;
    }

    /**
     * rmsNorm(x) @ W^T (+ bias), in x's manager: for a Java matrix the norm runs on the float[] the
     * product needs anyway, so the pair costs one round trip and no PyTorch op.
     */
    NDArray normThenLinear(NDArray x, RmsNorm norm, NDArray bias) {
        if (matrix == null) {
            return linear(norm.apply(x), bias);
        }
        float[] xs = x.toFloatArray();
        int rows = xs.length / matrix.cols();
        RowOps.rmsNorm(xs, rows, matrix.cols(), norm.values(), norm.eps(), xs);
        return product(x, xs, rows, bias);
    }

    /** x @ W^T (+ bias), in x's manager. */
    NDArray linear(NDArray x, NDArray bias) {
        if (tensor != null) {
            return Layers.linear(x, tensor, bias);
        }
        return product(x, x.toFloatArray(), Math.toIntExact(x.getShape().size() / matrix.cols()), bias);
    }

    /** xs (the values of x, or of a function of x of its shape) @ W^T, shaped as x with the last axis W's rows. */
    private NDArray product(NDArray x, float[] xs, int rows, NDArray bias) {
        float[] y = new float[Math.multiplyExact(rows, matrix.rows())];
        matrix.multiply(xs, rows, y);
        Shape shape = x.getShape();
        NDArray out = x.getManager().create(y, shape.slice(0, shape.dimension() - 1).add(matrix.rows()));
        return bias == null ? out : out.add(bias);
    }

    /** The rows named by {@code ids}, shaped as ids plus one axis. */
    NDArray embedding(NDArray ids) {
        if (tensor != null) {
            return Layers.embedding(ids, tensor);
        }
        int[] rows = ids.toType(DataType.INT32, false).toIntArray();
        float[] out = new float[Math.multiplyExact(rows.length, matrix.cols())];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= matrix.rows()) {
                throw new IllegalArgumentException("token id " + rows[i] + " is outside the vocabulary of " + matrix.rows());
            }
            matrix.widenRow(rows[i], out, i * matrix.cols());
        }
        return ids.getManager().create(out, ids.getShape().add(matrix.cols()));
    }
}
