package dev.gatehouse.serving.engine;

import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.Safetensors;

import java.util.Locale;

/**
 * How a causal LM holds its weights on the CPU ({@code local.NAME.weights-dtype}). {@code auto}: a
 * BF16 or F16 checkpoint's matrices stay 16-bit, memory-mapped from the file, and are multiplied by
 * Gatehouse's own Vector API kernels, so they take the checkpoint's size in memory, not twice it.
 * {@code f32}: every tensor is widened to FP32 at load and multiplied by PyTorch, the exact reference
 * (its results differ from 16-bit ones only by the order of FP32 additions).
 *
 * <p>16-bit weights need the {@code jdk.incubator.vector} module ({@code --add-modules
 * jdk.incubator.vector}, which the scripts pass); without it {@code auto} widens as {@code f32} does.
 */
public enum WeightsDtype {
    AUTO, F32;

    /** Whether this JVM was started with {@code --add-modules jdk.incubator.vector}. */
    public static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    public static WeightsDtype parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "f32", "float32" -> F32;
            default -> throw new IllegalArgumentException("weights-dtype must be auto or f32, not '" + value + "'");
        };
    }

    /**
     * Whether 16-bit matrices stay 16-bit: on the CPU, computing in FP32, for a 16-bit checkpoint,
     * when the Vector API is there.
     */
    public boolean keeps16Bit(Safetensors.DType stored, DtypeChoice.Resolved compute, boolean gpu) {
        return this == AUTO && !gpu && stored != Safetensors.DType.F32 && compute.type() == DataType.FLOAT32
                && VECTOR_API;
    }
}
