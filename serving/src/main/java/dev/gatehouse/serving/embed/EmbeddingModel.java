package dev.gatehouse.serving.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.gatehouse.serving.load.Json;
import dev.gatehouse.serving.load.ModelLoadException;
import dev.gatehouse.serving.load.ModelWeights;
import dev.gatehouse.serving.text.Tokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * An embedding model ready to serve: tokenizer, encoder and the sentence-transformers pipeline
 * (truncation, pooling, normalisation). {@link #embed} runs one padded forward pass for a whole
 * batch; it is not thread-safe, so one thread (the {@link EmbeddingBatcher}'s) calls it.
 */
public final class EmbeddingModel implements AutoCloseable {
    private final String name;
    private final Tokenizer tokenizer;
    private final Encoder encoder;
    private final EmbeddingPipeline pipeline;
    /** The token the tokenizer appends to every input ([SEP]), kept last when an input is truncated; -1 if none. */
    private final int endToken;

    public EmbeddingModel(String name, Tokenizer tokenizer, Encoder encoder, EmbeddingPipeline pipeline) {
        this.name = name;
        this.tokenizer = tokenizer;
        this.encoder = encoder;
        this.pipeline = pipeline;
        int[] empty = tokenizer.encode("", true);
        this.endToken = empty.length > 0 ? empty[empty.length - 1] : -1;
    }

    /** Whether a model folder holds an embedding model (a BERT config or sentence-transformers' modules.json). */
    public static boolean isEmbeddingFolder(Path folder) {
        if (Files.exists(folder.resolve("modules.json"))) {
            return true;
        }
        Path config = folder.resolve("config.json");
        return Files.exists(config) && EncoderConfig.isEncoder(Json.read(config));
    }

    /** Loads a folder: safetensors through PyTorch when present, else model.onnx / onnx/model.onnx through ONNX Runtime. */
    public static EmbeddingModel load(Path folder, Device device) {
        EncoderConfig config = EncoderConfig.load(folder);
        EmbeddingPipeline pipeline = EmbeddingPipeline.load(folder, config.maxPositions());
        Tokenizer tokenizer = loadTokenizer(folder);
        try {
            Encoder encoder;
            if (Files.exists(folder.resolve("model.safetensors")) || Files.exists(folder.resolve("model.safetensors.index.json"))) {
                encoder = new Bert(config, ModelWeights.open(folder), device);
            } else {
                encoder = OnnxEncoder.load(onnxFile(folder), config.hiddenSize(), config.vocabSize());
            }
            return new EmbeddingModel(folder.getFileName().toString(), tokenizer, encoder, pipeline);
        } catch (RuntimeException e) {
            tokenizer.close();
            throw e;
        }
    }

    static Tokenizer loadTokenizer(Path folder) {
        try {
            return Tokenizer.load(folder);
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(e.getMessage(), e);
        }
    }

    private static Path onnxFile(Path folder) {
        for (Path candidate : List.of(folder.resolve("model.onnx"), folder.resolve("onnx/model.onnx"))) {
            if (Files.exists(candidate)) {
                return candidate;
            }
        }
        throw new ModelLoadException("no weights in " + folder + ": expected model.safetensors, model.onnx or onnx/model.onnx");
    }

    public String name() {
        return name;
    }

    public int dimensions() {
        return encoder.hiddenSize();
    }

    /** Valid token ids are 0 to vocabSize - 1. */
    public int vocabSize() {
        return encoder.vocabSize();
    }

    public int maxTokens() {
        return pipeline.maxSeqLength();
    }

    public EmbeddingPipeline pipeline() {
        return pipeline;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Text to the ids the encoder sees: special tokens added, cut at max_seq_length with [SEP] kept last. */
    public int[] tokenize(String text) {
        return truncate(tokenizer.encode(text, true));
    }

    /** Cuts ids to max_seq_length as sentence-transformers does: the end token ([SEP]) stays last. */
    public int[] truncate(int[] ids) {
        int max = pipeline.maxSeqLength();
        if (ids.length <= max) {
            return ids;
        }
        int[] cut = java.util.Arrays.copyOf(ids, max);
        if (endToken >= 0 && ids[ids.length - 1] == endToken) {
            cut[max - 1] = endToken;
        }
        return cut;
    }

    /** One padded forward pass: a vector per input, pooled (and normalised when the pipeline says so). */
    public float[][] embed(List<int[]> inputs) {
        int b = inputs.size();
        int t = inputs.stream().mapToInt(ids -> ids.length).max().orElseThrow();
        long[][] ids = new long[b][t];
        long[][] mask = new long[b][t];
        for (int i = 0; i < b; i++) {
            int[] in = inputs.get(i);
            for (int j = 0; j < in.length; j++) {
                ids[i][j] = in[j];
                mask[i][j] = 1;
            }
        }
        try (NDManager step = encoder.newStepManager()) {
            NDArray hidden = encoder.forward(ids, mask, step);
            NDArray pooled = pipeline.pooling().pool(hidden, step.create(mask).toType(DataType.FLOAT32, false));
            if (pipeline.normalize()) {
                pooled = Pooling.normalize(pooled);
            }
            float[] flat = pooled.toDevice(Device.cpu(), false).toFloatArray();
            int d = dimensions();
            float[][] out = new float[b][];
            for (int i = 0; i < b; i++) {
                out[i] = java.util.Arrays.copyOfRange(flat, i * d, (i + 1) * d);
            }
            return out;
        }
    }

    @Override
    public void close() {
        encoder.close();
        tokenizer.close();
    }
}
