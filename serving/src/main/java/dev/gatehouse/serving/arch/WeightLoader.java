package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.cpu.CpuMatrix;
import dev.gatehouse.serving.load.ModelWeights;
import dev.gatehouse.serving.load.Safetensors;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a checkpoint's tensors into what an architecture holds: small tensors (norms, biases) as
 * PyTorch arrays in the compute type, matrices as {@link Weight}s, which stay as stored and
 * memory-mapped when {@code keepStored} (WeightsDtype.keepsStored).
 */
public final class WeightLoader {
    private final ModelWeights weights;
    private final NDManager manager;
    private final DataType dtype;
    private final boolean keepStored;

    public WeightLoader(ModelWeights weights, NDManager manager, DataType dtype, boolean keepStored) {
        this.weights = weights;
        this.manager = manager;
        this.dtype = dtype;
        this.keepStored = keepStored;
    }

    NDManager manager() {
        return manager;
    }

    DataType dtype() {
        return dtype;
    }

    boolean has(String name) {
        return weights.has(name);
    }

    /** A tensor in the compute type on the model's device. */
    NDArray tensor(String name, long... shape) {
        return weights.load(name, manager, dtype, shape);
    }

    /** A [rows, cols] matrix. */
    Weight matrix(String name, long rows, long cols) {
        return stacked(new String[] {name}, new long[] {rows}, cols);
    }

    /** Matrices of {@code cols} columns stacked along the rows (q/k/v, gate/up): one weight, one multiply. */
    Weight stacked(String[] names, long[] rows, long cols) {
        CpuMatrix.Format format = format(names);
        if (format == null) {
            NDArray[] parts = new NDArray[names.length];
            for (int i = 0; i < names.length; i++) {
                parts[i] = tensor(names[i], rows[i], cols);
            }
            return Weight.of(names.length == 1 ? parts[0] : concat(parts));
        }
        List<ByteBuffer> parts = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            parts.add(weights.map(names[i], rows[i], cols)); // read in place: no copy, no widening
        }
        return Weight.of(new CpuMatrix(format, Math.toIntExact(cols), parts));
    }

    /** A matrix stored [in, out] (GPT-2's Conv1D) as a contiguous [out, in] one: a copy, in the stored type. */
    Weight transposed(String name, long in, long out) {
        CpuMatrix.Format format = format(new String[] {name});
        if (format == null) {
            NDArray stored = tensor(name, in, out);
            NDArray linear = stored.transpose().duplicate();
            stored.close();
            return Weight.of(linear);
        }
        ByteBuffer src = weights.map(name, in, out);
        ByteBuffer dst = CpuMatrix.allocate(format, out, in);
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                int from = (int) (i * out + o);
                int to = (int) (o * in + i);
                if (format == CpuMatrix.Format.F32) {
                    dst.putInt(4 * to, src.getInt(4 * from));
                } else {
                    dst.putShort(2 * to, src.getShort(2 * from));
                }
            }
        }
        return Weight.of(new CpuMatrix(format, Math.toIntExact(in), List.of(dst)));
    }

    /** The stored format all of these tensors share when they stay as stored; null when they go to PyTorch. */
    private CpuMatrix.Format format(String[] names) {
        if (!keepStored) {
            return null;
        }
        Safetensors.DType first = weights.storedType(names[0]);
        for (String name : names) {
            if (weights.storedType(name) != first) {
                return null;
            }
        }
        return switch (first) {
            case BF16 -> CpuMatrix.Format.BF16;
            case F16 -> CpuMatrix.Format.F16;
            case F32 -> CpuMatrix.Format.F32;
        };
    }

    private static NDArray concat(NDArray... parts) {
        NDArray joined = NDArrays.concat(new NDList(parts), 0);
        for (NDArray part : parts) {
            part.close();
        }
        return joined;
    }
}
