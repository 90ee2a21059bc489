package dev.gatehouse.serving.engine;

import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.Safetensors;

import java.util.Locale;
import java.util.Set;

/**
 * The type a causal LM computes in ({@code local.NAME.dtype}): {@code auto}, {@code float16} or
 * {@code float32}. Never BF16: DJL 0.36's native dtype lookup ({@code GetScalarTypeFromDType} in
 * djl_pytorch_utils.h) has no BFLOAT16 case and ends in a bare {@code throw}, which terminates the
 * JVM, so a BF16 checkpoint is widened in Java and computed in FP16 or FP32.
 *
 * <p>{@code auto}: FP32 on the CPU; on a GPU an F16 checkpoint stays FP16, an F32 one FP32, and a
 * BF16 one runs in FP16 for the architectures whose activations stay inside FP16's range (about
 * ±65504) and in FP32 for the others. RMSNorm is computed in FP32 in every case; softmax and
 * LayerNorm on half-precision CUDA tensors accumulate in FP32 inside PyTorch.
 */
public enum DtypeChoice {
    AUTO, FLOAT16, FLOAT32;

    /**
     * BF16-trained architectures served in FP16 when auto. Qwen2/2.5/3 are left out (their residual
     * stream has outliers past FP16's range: FP16 runs of them are known to produce inf/NaN), as is
     * anything not listed: FP32 is slower but always right.
     */
    static final Set<String> FP16_SAFE = Set.of("LlamaForCausalLM", "MistralForCausalLM", "GPT2LMHeadModel");

    /** The chosen type and why, as /admin/models shows it. */
    public record Resolved(DataType type, String why) {
        public Resolved {
            if (type != DataType.FLOAT16 && type != DataType.FLOAT32) {
                throw new IllegalArgumentException("compute dtype must be float16 or float32, not " + type);
            }
        }

        /** float16 or float32, as the setting spells it. */
        public String label() {
            return type == DataType.FLOAT16 ? "float16" : "float32";
        }
    }

    public static DtypeChoice parse(String value) {
        String v = value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "auto" -> AUTO;
            case "float16", "fp16", "half" -> FLOAT16;
            case "float32", "fp32", "float" -> FLOAT32;
            case "bfloat16", "bf16" -> throw new IllegalArgumentException("dtype bfloat16 is not supported: DJL 0.36 "
                    + "cannot create BF16 tensors (its native code aborts the JVM); use float16 or float32");
            default -> throw new IllegalArgumentException("dtype must be auto, float16 or float32, not '" + value + "'");
        };
    }

    /**
     * @param architecture config.json's architectures[0]
     * @param stored       the checkpoint's float type
     * @param gpu          whether the model runs on a GPU
     */
    public Resolved resolve(String architecture, Safetensors.DType stored, boolean gpu) {
        return switch (this) {
            case FLOAT16 -> new Resolved(DataType.FLOAT16, "set for this model");
            case FLOAT32 -> new Resolved(DataType.FLOAT32, "set for this model");
            case AUTO -> {
                if (!gpu) {
                    yield new Resolved(DataType.FLOAT32, "cpu");
                }
                yield switch (stored) {
                    case F32 -> new Resolved(DataType.FLOAT32, "float32 checkpoint");
                    case F16 -> new Resolved(DataType.FLOAT16, "float16 checkpoint");
                    case BF16 -> FP16_SAFE.contains(architecture)
                            ? new Resolved(DataType.FLOAT16, "bfloat16 checkpoint; " + architecture + " fits float16")
                            : new Resolved(DataType.FLOAT32, "bfloat16 checkpoint; " + architecture
                                    + " is not known to fit float16");
                };
            }
        };
    }
}
