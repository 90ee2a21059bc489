package dev.gatehouse.serving.engine;

import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.arch.KvCache;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.load.ModelWeights;
import dev.gatehouse.serving.load.Safetensors;

import java.nio.file.Path;
import java.util.Locale;
import java.util.function.ToLongBiFunction;

/**
 * What a causal LM needs in memory to serve, worked out from its config.json and safetensors
 * headers alone (no weights read): its weights in the type they are served in, its KV cache as
 * configured, and an allowance for working buffers (one step's activations, the load's staging
 * chunks).
 *
 * @param weightType the type the weights are held in: as {@code local.NAME.dtype} spells it, or
 *                   "BF16" or "F16" (weights-dtype auto on the CPU: the matrices take the checkpoint's size)
 * @param storedType the checkpoint's type: when it is 16-bit and {@code weightType} is float32 the
 *                   weights take twice the checkpoint's size
 */
public record MemoryEstimate(long weightBytes, long kvCacheBytes, long workingBytes, String weightType,
                             Safetensors.DType storedType) {
    /** Working buffers: a fixed base plus a share of the weights (a step's activations grow with the model). */
    static final long WORKING_BASE = 256L << 20;
    static final double WORKING_SHARE = 0.05;

    public long totalBytes() {
        return weightBytes + kvCacheBytes + workingBytes;
    }

    /** The model served by an engine with {@code config} (max-running sequences, kv-cache-mb) on the CPU. */
    public static MemoryEstimate forEngine(Path folder, DtypeChoice dtype, EngineConfig config) {
        return forEngine(folder, dtype, WeightsDtype.AUTO, config);
    }

    public static MemoryEstimate forEngine(Path folder, DtypeChoice dtype, WeightsDtype weights, EngineConfig config) {
        EngineConfig sized = config.kvCacheBytes() > 0 ? config : config.withKvCacheBytes(KvBudget.CPU_DEFAULT);
        return of(folder, dtype, weights, (mc, perToken) -> // what Engine will allocate
                (long) Engine.poolBlocks(sized, Engine.modelLength(sized, mc.maxPositions(), perToken), perToken)
                        * KvCache.BLOCK_SIZE * perToken);
    }

    /** The model generating one sequence of up to {@code positions} tokens on the CPU ({@code gatehouse generate}). */
    public static MemoryEstimate forOneSequence(Path folder, DtypeChoice dtype, WeightsDtype weights, long positions) {
        return of(folder, dtype, weights, (mc, perToken) -> Math.min(positions, mc.maxPositions()) * perToken);
    }

    private static MemoryEstimate of(Path folder, DtypeChoice dtype, WeightsDtype weightsDtype,
                                     ToLongBiFunction<ModelConfig, Long> kvBytes) {
        ModelConfig mc = ModelConfig.load(folder);
        ModelWeights weights = ModelWeights.open(folder);
        Safetensors.DType stored = stored(weights);
        DtypeChoice.Resolved compute = dtype.resolve(mc.architecture(), stored, false);
        DataType type = compute.type();
        boolean keepStored = weightsDtype.keepsStored(stored, compute, false);
        long weightBytes = 0;
        for (String name : weights.names()) {
            // kept as stored: the matrices (WeightLoader's); norms and biases are widened
            boolean asStored = keepStored && weights.shape(name).length == 2;
            weightBytes += weights.elementCount(name) * (asStored ? weights.storedType(name).bytes : type.getNumOfBytes());
        }
        long working = WORKING_BASE + (long) (weightBytes * WORKING_SHARE);
        long perToken = KvCache.bytesPerToken(mc.numLayers(), mc.numKvHeads(), mc.headDim(), type);
        String label = keepStored ? stored.name() : type == DataType.FLOAT16 ? "float16" : "float32";
        return new MemoryEstimate(weightBytes, kvBytes.applyAsLong(mc, perToken), working, label, stored);
    }

    private static Safetensors.DType stored(ModelWeights weights) {
        return weights.storedType(weights.names().iterator().next());
    }

    /** The breakdown, e.g. "weights 13.5 GB as BF16, KV cache 1.1 GB, working buffers 1.6 GB". */
    public String breakdown() {
        String widened = storedType != Safetensors.DType.F32 && weightType.equals("float32")
                ? " (" + storedType + " widened to F32 on the CPU: weights-dtype auto keeps them 16-bit)" : "";
        return "weights " + gb(weightBytes) + " as " + weightType + widened + ", KV cache " + gb(kvCacheBytes)
                + ", working buffers " + gb(workingBytes);
    }

    /** Bytes as decimal gigabytes with one decimal, as disk sizes are given: "13.5 GB". */
    public static String gb(long bytes) {
        return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
    }
}
