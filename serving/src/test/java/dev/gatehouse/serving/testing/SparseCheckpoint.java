package dev.gatehouse.serving.testing;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model folder of real-model shape whose weights cost no disk: the safetensors header names every
 * tensor of Llama-2-7B (32 layers, hidden 4096, 6.74 billion parameters) and the data region is a
 * sparse file (its length set, nothing written), so it reads as zeros. Its config and tokenizer
 * files come from a tiny {@link TestModelFolder}; only config.json's shape is the 7B one.
 */
public final class SparseCheckpoint {
    public static final int LAYERS = 32;
    public static final int HIDDEN = 4096;
    public static final int INTERMEDIATE = 11008;
    public static final int VOCAB = 32000;
    public static final int MAX_POSITIONS = 4096;

    private SparseCheckpoint() {}

    /** Writes a Llama-2-7B-shaped checkpoint stored as {@code dtype} into {@code dir} and returns {@code dir}. */
    public static Path llama2_7b(Path dir, TensorDtype dtype) throws IOException {
        TestModelFolder tiny = TestModelFolder.llama().dtype(dtype).tied(false);
        tiny.write(dir);
        Map<String, Object> config = new LinkedHashMap<>(tiny.config());
        config.put("hidden_size", HIDDEN);
        config.put("intermediate_size", INTERMEDIATE);
        config.put("num_hidden_layers", LAYERS);
        config.put("num_attention_heads", 32);
        config.put("num_key_value_heads", 32);
        config.put("head_dim", 128);
        config.put("vocab_size", VOCAB);
        config.put("max_position_embeddings", MAX_POSITIONS);
        Files.writeString(dir.resolve("config.json"), Json.write(config, true, true) + "\n", StandardCharsets.UTF_8);
        writeSparse(dir.resolve("model.safetensors"), shapes(), dtype);
        return dir;
    }

    /** Llama-2-7B's tensors and shapes, as transformers names them. */
    static Map<String, long[]> shapes() {
        Map<String, long[]> s = new LinkedHashMap<>();
        s.put("model.embed_tokens.weight", new long[] {VOCAB, HIDDEN});
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            for (String proj : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                s.put(p + "self_attn." + proj + ".weight", new long[] {HIDDEN, HIDDEN});
            }
            s.put(p + "mlp.gate_proj.weight", new long[] {INTERMEDIATE, HIDDEN});
            s.put(p + "mlp.up_proj.weight", new long[] {INTERMEDIATE, HIDDEN});
            s.put(p + "mlp.down_proj.weight", new long[] {HIDDEN, INTERMEDIATE});
            s.put(p + "input_layernorm.weight", new long[] {HIDDEN});
            s.put(p + "post_attention_layernorm.weight", new long[] {HIDDEN});
        }
        s.put("model.norm.weight", new long[] {HIDDEN});
        s.put("lm_head.weight", new long[] {VOCAB, HIDDEN});
        return s;
    }

    /** How many numbers {@link #shapes()} holds: 6,738,415,616 for Llama-2-7B. */
    public static long parameterCount() {
        return shapes().values().stream().mapToLong(sh -> Arrays.stream(sh).reduce(1, (a, b) -> a * b)).sum();
    }

    private static void writeSparse(Path file, Map<String, long[]> shapes, TensorDtype dtype) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = Arrays.stream(e.getValue()).reduce(dtype.bytes(), (a, b) -> a * b);
            header.put(e.getKey(), Map.of("dtype", dtype.safetensorsName(),
                    "shape", Arrays.stream(e.getValue()).boxed().toList(), "data_offsets", List.of(offset, offset + bytes)));
            offset += bytes;
        }
        byte[] json = Json.write(header, false, false).getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile out = new RandomAccessFile(file.toFile(), "rw")) {
            out.setLength(0); // drop the tiny model's weights
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            out.write(json);
            out.setLength(8 + json.length + offset); // the data region: a hole, no disk used
        }
    }
}
