package dev.gatehouse.serving.engine;

import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.Safetensors;

import java.util.Locale;

/**
 * How a causal LM holds its weights on the CPU ({@code local.NAME.weights-dtype}).
 * {@code stored}: the matrices stay as stored (BF16, F16 or F32), memory-mapped from the file, and are
 * multiplied by Gatehouse's own Vector API kernels, so they take the checkpoint's size in memory and
 * are never copied. {@code f32}: every tensor is widened to FP32 at load and multiplied by PyTorch, the exact
 * reference (its results differ from 16-bit ones only by the order of FP32 additions). {@code auto}:
 * a 16-bit checkpoint kept as stored (for the Llama family, whose whole step then runs in Java, the
 * faster of the two on an idle CPU: docs/benchmarks.md), and an F32 checkpoint to PyTorch; the server
 * widens a GPT-2 checkpoint when it fits the memory the server may use.
 *
 * <p>The kernels need the {@code jdk.incubator.vector} module ({@code --add-modules
 * jdk.incubator.vector}, which the scripts pass); without it every weight goes to PyTorch as {@code f32}.
 */
public enum WeightsDtype {
    AUTO, STORED, F32;

    /** Whether this JVM was started with {@code --add-modules jdk.incubator.vector}. */
    public static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    public static WeightsDtype parse(String value) {
        return switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "stored" -> STORED;
            case "f32", "float32" -> F32;
            default -> throw new IllegalArgumentException("weights-dtype must be auto, stored or f32, not '" + value + "'");
        };
    }

    /**
     * Whether the matrices stay as stored, memory-mapped and multiplied by the Vector API kernels: on the
     * CPU, computing in FP32, when the Vector API is there; for a 16-bit checkpoint unless {@code f32},
     * for an F32 one only with {@code stored}.
     */
    public boolean keepsStored(Safetensors.DType stored, DtypeChoice.Resolved compute, boolean gpu) {
        return this != F32 && !gpu && compute.type() == DataType.FLOAT32 && VECTOR_API
                && (stored != Safetensors.DType.F32 || this == STORED);
    }
}
