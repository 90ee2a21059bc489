package dev.gatehouse.serving.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Builds small random-weight model folders in the Hugging Face layout that transformers'
 * {@code save_pretrained} produces: {@code config.json}, {@code generation_config.json},
 * {@code tokenizer.json}, {@code tokenizer_config.json}, {@code special_tokens_map.json} and either
 * {@code model.safetensors} or {@code model-0000i-of-0000n.safetensors} plus
 * {@code model.safetensors.index.json}.
 *
 * <pre>{@code
 * TestModelFolder m = TestModelFolder.llama().hidden(64).intermediate(128).layers(2).heads(4).kvHeads(2)
 *         .vocab(256).dtype(TensorDtype.BF16).tied(false).shards(2).seed(42);
 * Path dir = m.write(tempDir);
 * Map<String, float[]> exact = m.expectedTensors(); // the stored values, exactly widened to float32
 * }</pre>
 *
 * <h2>Weights</h2>
 * Deterministic from {@link #seed(long)}: every tensor has its own generator seeded from the seed
 * and the tensor's name, so toggling {@link #tied}, {@link #shards} or the dtype does not change the
 * other tensors. Values are drawn as float32, rounded to the storage dtype (round-to-nearest-even)
 * and {@link #expectedTensors()} holds the exactly widened float32 values that were stored.
 * <ul>
 *   <li>linear / Conv1D weights: N(0, (gain / sqrt(in_features))^2), {@link #weightGain} default 1.0;
 *       the projections writing into the residual stream ({@code o_proj}, {@code down_proj}, GPT-2
 *       {@code c_proj}) are further multiplied by {@link #residualGain} (default 16) so that the layers,
 *       not the input token's own embedding, dominate the residual stream (otherwise tied models just
 *       repeat their input token);
 *   <li>token embeddings and {@code lm_head}: N(0, (logitScale / sqrt(hidden))^2),
 *       {@link #logitScale} default 8.0, so the next-token logits have a standard deviation of
 *       about {@code logitScale} and greedy decoding is not tie-prone; GPT-2 {@code wpe} uses the same std;
 *   <li>norm weights 1 + N(0, 0.1^2); biases N(0, 0.1^2).
 * </ul>
 *
 * <h2>Layouts</h2>
 * Llama / Mistral / Qwen2 / Qwen3: {@code model.embed_tokens.weight},
 * {@code model.layers.N.self_attn.{q,k,v,o}_proj.weight} ([out, in]; Qwen2 adds {@code .bias} on
 * q/k/v, {@link #attentionBias} on q/k/v/o; Qwen3 adds {@code self_attn.{q,k}_norm.weight} of size head_dim),
 * {@code model.layers.N.mlp.{gate,up,down}_proj.weight}, {@code model.layers.N.input_layernorm.weight},
 * {@code model.layers.N.post_attention_layernorm.weight}, {@code model.norm.weight},
 * {@code lm_head.weight} (absent when tied).
 * GPT-2: {@code wte}, {@code wpe}, {@code h.N.ln_1}, {@code h.N.attn.c_attn} (Conv1D, [in, out]),
 * {@code h.N.attn.c_proj}, {@code h.N.ln_2}, {@code h.N.mlp.c_fc}, {@code h.N.mlp.c_proj}, {@code ln_f};
 * un-prefixed (as in the original OpenAI-converted checkpoints, including the {@code h.N.attn.bias}
 * causal-mask buffers, shape [1, 1, n_positions, n_positions], which loaders must ignore) or, with
 * {@link #gpt2Prefixed(boolean) gpt2Prefixed(true)}, with the {@code transformer.} prefix and no mask
 * buffers, as newer transformers versions save it. GPT-2 is always tied (no {@code lm_head.weight}).
 *
 * <h2>Vocabulary</h2>
 * A WordLevel tokenizer with a WhitespaceSplit pre-tokenizer covering exactly {@code vocab} ids.
 * The text of a regular token is {@code "t" + id} (so {@code "t17"} is id 17), except for three words
 * {@code system}, {@code user}, {@code assistant} (the first regular ids) so that ChatML prompts
 * tokenize without unknowns. Special tokens:
 * <ul>
 *   <li>llama, mistral: {@code <unk>}=0, {@code <s>}=1 (bos), {@code </s>}=2 (eos), {@code <|im_start|>}=3,
 *       {@code <|im_end|>}=4; the post-processor prepends {@code <s>} like Llama's tokenizer.json,
 *       and the chat template starts with {@code {{ bos_token }}};
 *   <li>qwen2, qwen3: {@code <|endoftext|>}=V-3 (bos id in config, pad, unk), {@code <|im_start|>}=V-2,
 *       {@code <|im_end|>}=V-1 (eos); no bos token in tokenizer_config, nothing prepended;
 *   <li>gpt2: {@code <|im_start|>}=V-3, {@code <|im_end|>}=V-2, {@code <|endoftext|>}=V-1 (bos = eos, unk).
 * </ul>
 * The chat template is ChatML, written as real checkpoints write it ({@code '\n'} escapes inside
 * Jinja string literals).
 */
public final class TestModelFolder {

    public enum Architecture {
        LLAMA("llama", "LlamaForCausalLM"),
        MISTRAL("mistral", "MistralForCausalLM"),
        QWEN2("qwen2", "Qwen2ForCausalLM"),
        QWEN3("qwen3", "Qwen3ForCausalLM"),
        GPT2("gpt2", "GPT2LMHeadModel");

        public final String modelType;
        public final String architectureClass;

        Architecture(String modelType, String architectureClass) {
            this.modelType = modelType;
            this.architectureClass = architectureClass;
        }
    }

    /** Llama 3.1/3.2 style {@code rope_scaling} ({@code rope_type: "llama3"}). */
    public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {}

    public static final String TRANSFORMERS_VERSION = "4.51.3";

    static final String CHATML_TEMPLATE = "{% for message in messages %}"
        + "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        + "{% endfor %}"
        + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    private static final String[] ROLE_WORDS = { "system", "user", "assistant" };

    private final Architecture arch;
    private int hidden = 64;
    private int intermediate = 128;
    private int layers = 2;
    private int heads = 4;
    private int kvHeads = 2;
    private Integer headDim;
    private int vocab = 256;
    private TensorDtype dtype = TensorDtype.F32;
    private boolean tied;
    private int shards = 1;
    private long seed = 42;
    private boolean gpt2Prefixed;
    private double ropeTheta;
    private double normEps;
    private int maxPositions;
    private RopeScaling ropeScaling;
    private int[] eosIds;
    private int[] generationEosIds;
    private double logitScale = 8.0;
    private double weightGain = 1.0;
    private double residualGain = 16.0;
    private boolean attentionBias;
    private Integer slidingWindow;
    private int slidingFromLayer;

    private LinkedHashMap<String, SafetensorsWriter.Tensor> cache;

    private TestModelFolder(Architecture arch) {
        this.arch = arch;
        switch (arch) {
            case LLAMA, MISTRAL -> {
                ropeTheta = 10000.0;
                normEps = 1e-5;
                maxPositions = 1024;
                tied = false;
            }
            case QWEN2 -> {
                ropeTheta = 1000000.0;
                normEps = 1e-6;
                maxPositions = 1024;
                tied = true;
            }
            case QWEN3 -> {
                ropeTheta = 1000000.0;
                normEps = 1e-6;
                maxPositions = 1024;
                tied = true;
                headDim = 32; // differs from hidden / heads = 16 with the defaults, as in real Qwen3 checkpoints
            }
            case GPT2 -> {
                normEps = 1e-5;
                maxPositions = 128;
                tied = true;
                intermediate = 4 * hidden;
                kvHeads = heads;
            }
        }
    }

    public static TestModelFolder llama() {
        return new TestModelFolder(Architecture.LLAMA);
    }

    public static TestModelFolder mistral() {
        return new TestModelFolder(Architecture.MISTRAL);
    }

    /** Qwen2: q/k/v projections carry biases. */
    public static TestModelFolder qwen2() {
        return new TestModelFolder(Architecture.QWEN2);
    }

    /** Qwen3: per-head RMSNorm on q and k ({@code q_norm}/{@code k_norm}), explicit {@code head_dim} (default 32). */
    public static TestModelFolder qwen3() {
        return new TestModelFolder(Architecture.QWEN3);
    }

    /** GPT-2: learned positions, LayerNorm, Conv1D weights, gelu_new MLP with 4 * hidden units by default. */
    public static TestModelFolder gpt2() {
        return new TestModelFolder(Architecture.GPT2);
    }

    // ---------------------------------------------------------------- builder setters

    private TestModelFolder changed() {
        cache = null;
        return this;
    }

    /** hidden_size / n_embd. For GPT-2 this also resets intermediate to 4 * hidden. */
    public TestModelFolder hidden(int v) {
        hidden = v;
        if (arch == Architecture.GPT2) intermediate = 4 * v;
        return changed();
    }

    /** intermediate_size (GPT-2: n_inner, written as null when it equals 4 * hidden). */
    public TestModelFolder intermediate(int v) {
        intermediate = v;
        return changed();
    }

    public TestModelFolder layers(int v) {
        layers = v;
        return changed();
    }

    /** num_attention_heads; for GPT-2 also the number of kv heads. */
    public TestModelFolder heads(int v) {
        heads = v;
        if (arch == Architecture.GPT2) kvHeads = v;
        return changed();
    }

    public TestModelFolder kvHeads(int v) {
        kvHeads = v;
        return changed();
    }

    /** Explicit head_dim (written to config.json for llama, mistral, qwen3). */
    public TestModelFolder headDim(int v) {
        headDim = v;
        return changed();
    }

    public TestModelFolder vocab(int v) {
        vocab = v;
        return changed();
    }

    public TestModelFolder dtype(TensorDtype v) {
        dtype = v;
        return changed();
    }

    public TestModelFolder tied(boolean v) {
        tied = v;
        return changed();
    }

    /** Number of safetensors files; more than one also writes model.safetensors.index.json. */
    public TestModelFolder shards(int v) {
        shards = v;
        return changed();
    }

    public TestModelFolder seed(long v) {
        seed = v;
        return changed();
    }

    /** GPT-2 only: {@code transformer.}-prefixed names (newer transformers) instead of the original un-prefixed ones. */
    public TestModelFolder gpt2Prefixed(boolean v) {
        gpt2Prefixed = v;
        return changed();
    }

    public TestModelFolder ropeTheta(double v) {
        ropeTheta = v;
        return changed();
    }

    /** rms_norm_eps (GPT-2: layer_norm_epsilon). */
    public TestModelFolder normEps(double v) {
        normEps = v;
        return changed();
    }

    /** max_position_embeddings (GPT-2: n_positions and n_ctx). */
    public TestModelFolder maxPositions(int v) {
        maxPositions = v;
        return changed();
    }

    /** Llama only: writes {@code rope_scaling: {rope_type: "llama3", ...}} like Llama 3.1/3.2. */
    public TestModelFolder ropeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
        ropeScaling = new RopeScaling(factor, lowFreqFactor, highFreqFactor, originalMaxPositions);
        return changed();
    }

    /** config.json eos_token_id: an int for one id, a list for several (Llama 3.1 style). */
    public TestModelFolder eosTokenIds(int... ids) {
        eosIds = ids.clone();
        return changed();
    }

    /** generation_config.json eos_token_id: an int for one id, a list for several. */
    public TestModelFolder generationEosTokenIds(int... ids) {
        generationEosIds = ids.clone();
        return changed();
    }

    /** Standard deviation of the next-token logits the embeddings / lm_head are scaled for (default 8). */
    public TestModelFolder logitScale(double v) {
        logitScale = v;
        return changed();
    }

    /** Linear weights have std {@code gain / sqrt(in_features)} (default 1). */
    public TestModelFolder weightGain(double v) {
        weightGain = v;
        return changed();
    }

    /**
     * Extra factor on the std of the projections that write into the residual stream ({@code o_proj},
     * {@code down_proj}, GPT-2 {@code attn.c_proj} and {@code mlp.c_proj}); default 16. With tied
     * embeddings the residual stream must be dominated by the layers, not by the input token's own
     * embedding, or the model just predicts its input token.
     */
    public TestModelFolder residualGain(double v) {
        residualGain = v;
        return changed();
    }

    /** Llama / Qwen3: {@code attention_bias: true}, so q, k, v and o projections all carry biases. */
    public TestModelFolder attentionBias(boolean v) {
        attentionBias = v;
        return changed();
    }

    /**
     * Sliding-window attention over {@code window} positions in the layers from {@code fromLayer} on.
     * Mistral: {@code sliding_window} (every layer, so {@code fromLayer} must be 0); Qwen2 / Qwen3:
     * {@code use_sliding_window: true}, {@code sliding_window} and {@code max_window_layers: fromLayer}.
     */
    public TestModelFolder slidingWindow(int window, int fromLayer) {
        slidingWindow = window;
        slidingFromLayer = fromLayer;
        return changed();
    }

    // ---------------------------------------------------------------- getters

    public Architecture architecture() {
        return arch;
    }

    public int hiddenSize() {
        return hidden;
    }

    public int intermediateSize() {
        return intermediate;
    }

    public int numLayers() {
        return layers;
    }

    public int numHeads() {
        return heads;
    }

    public int numKvHeads() {
        return kvHeads;
    }

    public int headDim() {
        return headDim != null ? headDim : hidden / heads;
    }

    public int vocabSize() {
        return vocab;
    }

    public TensorDtype dtype() {
        return dtype;
    }

    public boolean isTied() {
        return tied;
    }

    public int shardCount() {
        return shards;
    }

    public long seed() {
        return seed;
    }

    public boolean isGpt2Prefixed() {
        return gpt2Prefixed;
    }

    public double ropeTheta() {
        return ropeTheta;
    }

    public double normEps() {
        return normEps;
    }

    public int maxPositions() {
        return maxPositions;
    }

    public RopeScaling ropeScaling() {
        return ropeScaling;
    }

    // ---------------------------------------------------------------- vocabulary

    private boolean specialsInFront() {
        return arch == Architecture.LLAMA || arch == Architecture.MISTRAL;
    }

    /** Id of {@code <unk>} (llama/mistral), else -1. */
    public int unkTokenId() {
        return specialsInFront() ? 0 : -1;
    }

    /** bos_token_id of config.json. */
    public int bosTokenId() {
        return switch (arch) {
            case LLAMA, MISTRAL -> 1;
            case QWEN2, QWEN3 -> endOfTextTokenId();
            case GPT2 -> endOfTextTokenId();
        };
    }

    /** {@code <|endoftext|>} for qwen/gpt2, -1 for llama/mistral. */
    public int endOfTextTokenId() {
        return switch (arch) {
            case LLAMA, MISTRAL -> -1;
            case QWEN2, QWEN3 -> vocab - 3;
            case GPT2 -> vocab - 1;
        };
    }

    public int imStartTokenId() {
        return switch (arch) {
            case LLAMA, MISTRAL -> 3;
            case QWEN2, QWEN3 -> vocab - 2;
            case GPT2 -> vocab - 3;
        };
    }

    public int imEndTokenId() {
        return switch (arch) {
            case LLAMA, MISTRAL -> 4;
            case QWEN2, QWEN3 -> vocab - 1;
            case GPT2 -> vocab - 2;
        };
    }

    /** The tokenizer's eos token (tokenizer_config.json eos_token). */
    public int eosTokenId() {
        return switch (arch) {
            case LLAMA, MISTRAL -> 2;
            case QWEN2, QWEN3 -> imEndTokenId();
            case GPT2 -> endOfTextTokenId();
        };
    }

    /** config.json eos_token_id (one entry: written as an int). */
    public int[] eosTokenIds() {
        return eosIds != null ? eosIds.clone() : new int[] { eosTokenId() };
    }

    /** generation_config.json eos_token_id (one entry: written as an int). */
    public int[] generationEosTokenIds() {
        if (generationEosIds != null) return generationEosIds.clone();
        return switch (arch) {
            case LLAMA -> new int[] { eosTokenId(), imEndTokenId() };
            case MISTRAL, GPT2 -> eosTokenIds();
            case QWEN2, QWEN3 -> new int[] { imEndTokenId(), endOfTextTokenId() };
        };
    }

    /** Ids of the special (added) tokens. */
    public int[] specialTokenIds() {
        return switch (arch) {
            case LLAMA, MISTRAL -> new int[] { 0, 1, 2, 3, 4 };
            case QWEN2, QWEN3, GPT2 -> new int[] { vocab - 3, vocab - 2, vocab - 1 };
        };
    }

    /** First id of the regular (non-special) vocabulary; the first three regular tokens are the role words. */
    public int firstRegularTokenId() {
        return specialsInFront() ? 5 : 0;
    }

    /** Last id (inclusive) of the regular vocabulary. */
    public int lastRegularTokenId() {
        return specialsInFront() ? vocab - 1 : vocab - 4;
    }

    /** The whole vocabulary, index = token id. */
    public String[] tokens() {
        String[] t = new String[vocab];
        for (int i = 0; i < vocab; i++) t[i] = "t" + i;
        int first = firstRegularTokenId();
        for (int i = 0; i < ROLE_WORDS.length; i++) t[first + i] = ROLE_WORDS[i];
        switch (arch) {
            case LLAMA, MISTRAL -> {
                t[0] = "<unk>";
                t[1] = "<s>";
                t[2] = "</s>";
                t[3] = "<|im_start|>";
                t[4] = "<|im_end|>";
            }
            case QWEN2, QWEN3 -> {
                t[vocab - 3] = "<|endoftext|>";
                t[vocab - 2] = "<|im_start|>";
                t[vocab - 1] = "<|im_end|>";
            }
            case GPT2 -> {
                t[vocab - 3] = "<|im_start|>";
                t[vocab - 2] = "<|im_end|>";
                t[vocab - 1] = "<|endoftext|>";
            }
        }
        return t;
    }

    public String tokenText(int id) {
        return tokens()[id];
    }

    /** Deterministic random regular token ids (role words excluded). */
    public int[] randomTokens(int n, long rngSeed) {
        SplittableRandom r = new SplittableRandom(rngSeed);
        int lo = firstRegularTokenId() + ROLE_WORDS.length;
        int hi = lastRegularTokenId();
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = lo + r.nextInt(hi - lo + 1);
        return out;
    }

    // ---------------------------------------------------------------- tensors

    /** Every written tensor, in state-dict order, as the exactly widened float32 values that were stored. */
    public Map<String, float[]> expectedTensors() {
        Map<String, float[]> out = new LinkedHashMap<>();
        tensors().forEach((k, v) -> out.put(k, v.values().clone()));
        return out;
    }

    /** Shapes of every written tensor, in state-dict order. */
    public Map<String, long[]> expectedShapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        tensors().forEach((k, v) -> out.put(k, v.shape().clone()));
        return out;
    }

    /** The weight files {@link #write} creates. */
    public List<String> weightFileNames() {
        if (shards == 1) return List.of("model.safetensors");
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= shards; i++) names.add(shardName(i, shards));
        return names;
    }

    static String shardName(int i, int n) {
        return String.format("model-%05d-of-%05d.safetensors", i, n);
    }

    private void validate() {
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) {
            throw new IllegalStateException("heads (" + heads + ") must be a positive multiple of kvHeads (" + kvHeads + ")");
        }
        if (headDim == null && hidden % heads != 0) throw new IllegalStateException("hidden must be divisible by heads");
        if (headDim() % 2 != 0) throw new IllegalStateException("head_dim must be even");
        if (vocab < 16) throw new IllegalStateException("vocab must be at least 16");
        if (shards < 1) throw new IllegalStateException("shards must be >= 1");
        if (arch == Architecture.GPT2) {
            if (!tied) throw new IllegalStateException("GPT-2 checkpoints are always tied");
            if (kvHeads != heads) throw new IllegalStateException("GPT-2 has no grouped-query attention");
            if (headDim != null && headDim * heads != hidden) throw new IllegalStateException("GPT-2 head_dim is hidden / heads");
        } else if (gpt2Prefixed) {
            throw new IllegalStateException("gpt2Prefixed applies to GPT-2 only");
        }
        if (ropeScaling != null && arch != Architecture.LLAMA) throw new IllegalStateException("llama3 rope_scaling applies to llama only");
        if (attentionBias && arch != Architecture.LLAMA && arch != Architecture.QWEN3) {
            throw new IllegalStateException("attention_bias applies to llama and qwen3 only");
        }
        if (slidingWindow != null && arch != Architecture.MISTRAL && arch != Architecture.QWEN2 && arch != Architecture.QWEN3) {
            throw new IllegalStateException("sliding windows apply to mistral, qwen2 and qwen3 only");
        }
        if (slidingWindow != null && arch == Architecture.MISTRAL && slidingFromLayer != 0) {
            throw new IllegalStateException("Mistral windows every layer");
        }
        if (headDim != null && arch == Architecture.QWEN2 && headDim * heads != hidden) {
            throw new IllegalStateException("Qwen2 has no head_dim field; it is hidden / heads");
        }
    }

    private LinkedHashMap<String, SafetensorsWriter.Tensor> tensors() {
        if (cache != null) return cache;
        validate();
        LinkedHashMap<String, SafetensorsWriter.Tensor> t = new LinkedHashMap<>();
        double embedStd = logitScale / Math.sqrt(hidden);
        if (arch == Architecture.GPT2) {
            String p = gpt2Prefixed ? "transformer." : "";
            gaussian(t, p + "wte.weight", embedStd, vocab, hidden);
            gaussian(t, p + "wpe.weight", embedStd, maxPositions, hidden);
            for (int l = 0; l < layers; l++) {
                String b = p + "h." + l + ".";
                norm(t, b + "ln_1.weight", hidden);
                bias(t, b + "ln_1.bias", hidden);
                if (!gpt2Prefixed) causalMask(t, b + "attn.bias");
                conv1d(t, b + "attn.c_attn", hidden, 3 * hidden, 1);
                conv1d(t, b + "attn.c_proj", hidden, hidden, residualGain);
                norm(t, b + "ln_2.weight", hidden);
                bias(t, b + "ln_2.bias", hidden);
                conv1d(t, b + "mlp.c_fc", hidden, intermediate, 1);
                conv1d(t, b + "mlp.c_proj", intermediate, hidden, residualGain);
            }
            norm(t, p + "ln_f.weight", hidden);
            bias(t, p + "ln_f.bias", hidden);
        } else {
            int hd = headDim();
            int q = heads * hd;
            int kv = kvHeads * hd;
            gaussian(t, "model.embed_tokens.weight", embedStd, vocab, hidden);
            for (int l = 0; l < layers; l++) {
                String b = "model.layers." + l + ".";
                boolean qkvBias = arch == Architecture.QWEN2 || attentionBias;
                linear(t, b + "self_attn.q_proj", hidden, q, qkvBias, 1);
                linear(t, b + "self_attn.k_proj", hidden, kv, qkvBias, 1);
                linear(t, b + "self_attn.v_proj", hidden, kv, qkvBias, 1);
                linear(t, b + "self_attn.o_proj", q, hidden, attentionBias, residualGain);
                if (arch == Architecture.QWEN3) {
                    norm(t, b + "self_attn.q_norm.weight", hd);
                    norm(t, b + "self_attn.k_norm.weight", hd);
                }
                linear(t, b + "mlp.gate_proj", hidden, intermediate, false, 1);
                linear(t, b + "mlp.up_proj", hidden, intermediate, false, 1);
                linear(t, b + "mlp.down_proj", intermediate, hidden, false, residualGain);
                norm(t, b + "input_layernorm.weight", hidden);
                norm(t, b + "post_attention_layernorm.weight", hidden);
            }
            norm(t, "model.norm.weight", hidden);
            if (!tied) gaussian(t, "lm_head.weight", embedStd, vocab, hidden);
        }
        cache = t;
        return t;
    }

    private SplittableRandom rng(String name) {
        if (name.startsWith("transformer.")) name = name.substring("transformer.".length()); // same values under either GPT-2 naming
        long h = seed * 0x9E3779B97F4A7C15L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) h = (h ^ b) * 0x100000001B3L;
        return new SplittableRandom(h);
    }

    private void put(Map<String, SafetensorsWriter.Tensor> t, String name, float[] v, long... shape) {
        for (int i = 0; i < v.length; i++) v[i] = dtype.round(v[i]);
        t.put(name, new SafetensorsWriter.Tensor(name, dtype, shape, v));
    }

    private void gaussian(Map<String, SafetensorsWriter.Tensor> t, String name, double std, int rows, int cols) {
        SplittableRandom r = rng(name);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * std);
        put(t, name, v, rows, cols);
    }

    /** nn.Linear: weight [out, in], optional bias [out]. */
    private void linear(Map<String, SafetensorsWriter.Tensor> t, String name, int in, int out, boolean withBias, double extraGain) {
        gaussian(t, name + ".weight", extraGain * weightGain / Math.sqrt(in), out, in);
        if (withBias) bias(t, name + ".bias", out);
    }

    /** transformers' Conv1D (GPT-2): weight [in, out], bias [out]. */
    private void conv1d(Map<String, SafetensorsWriter.Tensor> t, String name, int in, int out, double extraGain) {
        gaussian(t, name + ".weight", extraGain * weightGain / Math.sqrt(in), in, out);
        bias(t, name + ".bias", out);
    }

    private void norm(Map<String, SafetensorsWriter.Tensor> t, String name, int n) {
        SplittableRandom r = rng(name);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1.0 + 0.1 * r.nextGaussian());
        put(t, name, v, n);
    }

    private void bias(Map<String, SafetensorsWriter.Tensor> t, String name, int n) {
        SplittableRandom r = rng(name);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.1 * r.nextGaussian());
        put(t, name, v, n);
    }

    /** The old GPT-2 {@code attn.bias} buffer: lower-triangular ones, [1, 1, n_positions, n_positions]. */
    private void causalMask(Map<String, SafetensorsWriter.Tensor> t, String name) {
        int n = maxPositions;
        float[] v = new float[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) v[i * n + j] = 1f;
        put(t, name, v, 1, 1, n, n);
    }

    // ---------------------------------------------------------------- writing

    /** Writes the folder into {@code dir} (created if needed) and returns {@code dir}. */
    public Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        writeWeights(dir);
        writeJson(dir.resolve("config.json"), config(), true);
        writeJson(dir.resolve("generation_config.json"), generationConfig(), true);
        writeJson(dir.resolve("tokenizer.json"), tokenizerJson(), false);
        writeJson(dir.resolve("tokenizer_config.json"), tokenizerConfig(), true);
        writeJson(dir.resolve("special_tokens_map.json"), specialTokensMap(), true);
        return dir;
    }

    private static void writeJson(Path file, Object value, boolean sortKeys) throws IOException {
        Files.writeString(file, Json.write(value, true, sortKeys) + "\n", StandardCharsets.UTF_8);
    }

    private void writeWeights(Path dir) throws IOException {
        List<SafetensorsWriter.Tensor> all = new ArrayList<>(tensors().values());
        Map<String, String> meta = Map.of("format", "pt");
        if (shards == 1) {
            SafetensorsWriter.write(dir.resolve("model.safetensors"), sortedByName(all), meta);
            return;
        }
        if (all.size() < shards) throw new IllegalStateException("more shards than tensors");
        // transformers fills shards in state-dict order; split into contiguous groups of about equal bytes
        long total = all.stream().mapToLong(SafetensorsWriter.Tensor::byteSize).sum();
        List<List<SafetensorsWriter.Tensor>> groups = new ArrayList<>();
        List<SafetensorsWriter.Tensor> cur = new ArrayList<>();
        long acc = 0;
        for (int i = 0; i < all.size(); i++) {
            SafetensorsWriter.Tensor x = all.get(i);
            cur.add(x);
            acc += x.byteSize();
            int remainingTensors = all.size() - i - 1;
            int remainingGroups = shards - groups.size() - 1;
            boolean full = acc >= total * (groups.size() + 1) / shards;
            if (remainingGroups > 0 && (full || remainingTensors == remainingGroups)) {
                groups.add(cur);
                cur = new ArrayList<>();
            }
        }
        groups.add(cur);
        Map<String, String> weightMap = new TreeMap<>();
        long totalSize = 0;
        for (int g = 0; g < groups.size(); g++) {
            String file = shardName(g + 1, shards);
            totalSize += SafetensorsWriter.write(dir.resolve(file), sortedByName(groups.get(g)), meta);
            for (SafetensorsWriter.Tensor x : groups.get(g)) weightMap.put(x.name(), file);
        }
        Map<String, Object> index = new LinkedHashMap<>();
        index.put("metadata", Map.of("total_size", totalSize));
        index.put("weight_map", weightMap);
        writeJson(dir.resolve("model.safetensors.index.json"), index, true);
    }

    /** Python safetensors orders tensors by (dtype alignment, name); all tensors here share one dtype. */
    private static List<SafetensorsWriter.Tensor> sortedByName(List<SafetensorsWriter.Tensor> l) {
        List<SafetensorsWriter.Tensor> s = new ArrayList<>(l);
        s.sort((a, b) -> a.name().compareTo(b.name()));
        return s;
    }

    private static Object idOrList(int[] ids) {
        if (ids.length == 1) return ids[0];
        List<Integer> l = new ArrayList<>();
        for (int id : ids) l.add(id);
        return l;
    }

    /** The config.json content. */
    public Map<String, Object> config() {
        validate();
        Map<String, Object> c = new HashMap<>();
        c.put("architectures", List.of(arch.architectureClass));
        c.put("model_type", arch.modelType);
        c.put("vocab_size", vocab);
        c.put("bos_token_id", bosTokenId());
        c.put("eos_token_id", idOrList(eosTokenIds()));
        c.put("torch_dtype", dtype.torchName());
        c.put("transformers_version", TRANSFORMERS_VERSION);
        c.put("use_cache", true);
        c.put("initializer_range", 0.02);
        if (arch == Architecture.GPT2) {
            c.put("activation_function", "gelu_new");
            c.put("attn_pdrop", 0.1);
            c.put("embd_pdrop", 0.1);
            c.put("resid_pdrop", 0.1);
            c.put("layer_norm_epsilon", normEps);
            c.put("n_ctx", maxPositions);
            c.put("n_positions", maxPositions);
            c.put("n_embd", hidden);
            c.put("n_head", heads);
            c.put("n_layer", layers);
            c.put("n_inner", intermediate == 4 * hidden ? null : intermediate);
            c.put("reorder_and_upcast_attn", false);
            c.put("scale_attn_by_inverse_layer_idx", false);
            c.put("scale_attn_weights", true);
            c.put("summary_activation", null);
            c.put("summary_first_dropout", 0.1);
            c.put("summary_proj_to_labels", true);
            c.put("summary_type", "cls_index");
            c.put("summary_use_proj", true);
            return c;
        }
        c.put("hidden_act", "silu");
        c.put("hidden_size", hidden);
        c.put("intermediate_size", intermediate);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kvHeads);
        c.put("max_position_embeddings", maxPositions);
        c.put("rms_norm_eps", normEps);
        c.put("rope_theta", ropeTheta);
        c.put("tie_word_embeddings", tied);
        c.put("attention_dropout", 0.0);
        switch (arch) {
            case LLAMA -> {
                c.put("attention_bias", attentionBias);
                c.put("mlp_bias", false);
                c.put("head_dim", headDim());
                c.put("pretraining_tp", 1);
                if (ropeScaling == null) {
                    c.put("rope_scaling", null);
                } else {
                    Map<String, Object> rs = new HashMap<>();
                    rs.put("rope_type", "llama3");
                    rs.put("factor", ropeScaling.factor());
                    rs.put("low_freq_factor", ropeScaling.lowFreqFactor());
                    rs.put("high_freq_factor", ropeScaling.highFreqFactor());
                    rs.put("original_max_position_embeddings", ropeScaling.originalMaxPositions());
                    c.put("rope_scaling", rs);
                }
            }
            case MISTRAL -> {
                c.put("head_dim", headDim());
                c.put("sliding_window", slidingWindow != null ? slidingWindow : 4096);
            }
            case QWEN2 -> {
                c.put("max_window_layers", slidingWindow != null ? slidingFromLayer : layers);
                c.put("rope_scaling", null);
                c.put("sliding_window", slidingWindow != null ? slidingWindow : maxPositions);
                c.put("use_sliding_window", slidingWindow != null);
            }
            case QWEN3 -> {
                c.put("attention_bias", attentionBias);
                c.put("head_dim", headDim());
                c.put("max_window_layers", slidingWindow != null ? slidingFromLayer : layers);
                c.put("rope_scaling", null);
                c.put("sliding_window", slidingWindow);
                c.put("use_sliding_window", slidingWindow != null);
            }
            default -> throw new AssertionError();
        }
        return c;
    }

    /** The generation_config.json content. */
    public Map<String, Object> generationConfig() {
        Map<String, Object> g = new HashMap<>();
        g.put("bos_token_id", bosTokenId());
        g.put("eos_token_id", idOrList(generationEosTokenIds()));
        g.put("transformers_version", TRANSFORMERS_VERSION);
        if (Arrays.equals(generationEosTokenIds(), eosTokenIds())) g.put("_from_model_config", true);
        return g;
    }

    private String bosTokenText() {
        return switch (arch) {
            case LLAMA, MISTRAL -> "<s>";
            case QWEN2, QWEN3 -> null;
            case GPT2 -> "<|endoftext|>";
        };
    }

    private String unkTokenText() {
        return specialsInFront() ? "<unk>" : arch == Architecture.GPT2 ? "<|endoftext|>" : null;
    }

    private String padTokenText() {
        return (arch == Architecture.QWEN2 || arch == Architecture.QWEN3) ? "<|endoftext|>" : null;
    }

    private String chatTemplate() {
        return specialsInFront() ? "{{ bos_token }}" + CHATML_TEMPLATE : CHATML_TEMPLATE;
    }

    /** The tokenizer.json content (HF tokenizers format, WordLevel model). */
    public Map<String, Object> tokenizerJson() {
        validate();
        String[] toks = tokens();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        List<Object> added = new ArrayList<>();
        for (int id : specialTokenIds()) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("id", id);
            a.put("content", toks[id]);
            a.put("single_word", false);
            a.put("lstrip", false);
            a.put("rstrip", false);
            a.put("normalized", false);
            a.put("special", true);
            added.add(a);
        }
        root.put("added_tokens", added);
        root.put("normalizer", null);
        root.put("pre_tokenizer", Map.of("type", "WhitespaceSplit"));
        if (specialsInFront()) {
            Map<String, Object> bos = Map.of("SpecialToken", linked("id", "<s>", "type_id", 0));
            Map<String, Object> bos1 = Map.of("SpecialToken", linked("id", "<s>", "type_id", 1));
            Map<String, Object> a = Map.of("Sequence", linked("id", "A", "type_id", 0));
            Map<String, Object> b = Map.of("Sequence", linked("id", "B", "type_id", 1));
            Map<String, Object> pp = new LinkedHashMap<>();
            pp.put("type", "TemplateProcessing");
            pp.put("single", List.of(bos, a));
            pp.put("pair", List.of(bos, a, bos1, b));
            Map<String, Object> st = new LinkedHashMap<>();
            st.put("<s>", linked("id", "<s>", "ids", List.of(1), "tokens", List.of("<s>")));
            pp.put("special_tokens", st);
            root.put("post_processor", pp);
        } else {
            root.put("post_processor", null);
        }
        root.put("decoder", null);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordLevel");
        Map<String, Object> v = new LinkedHashMap<>();
        for (int i = 0; i < toks.length; i++) v.put(toks[i], i);
        model.put("vocab", v);
        // WordLevel needs an unk token; Qwen has none, so its <|endoftext|> stands in (tokenizer_config keeps unk_token null)
        model.put("unk_token", unkTokenText() != null ? unkTokenText() : "<|endoftext|>");
        root.put("model", model);
        return root;
    }

    private static Map<String, Object> linked(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    /** The tokenizer_config.json content. */
    public Map<String, Object> tokenizerConfig() {
        String[] toks = tokens();
        Map<String, Object> c = new HashMap<>();
        Map<String, Object> decoder = new LinkedHashMap<>();
        for (int id : specialTokenIds()) {
            decoder.put(Integer.toString(id), linked("content", toks[id], "lstrip", false, "normalized", false, "rstrip", false,
                "single_word", false, "special", true));
        }
        c.put("added_tokens_decoder", decoder);
        if (specialsInFront()) {
            c.put("add_bos_token", true);
            c.put("add_eos_token", false);
            c.put("legacy", false);
        } else {
            c.put("add_prefix_space", false);
        }
        c.put("bos_token", bosTokenText());
        c.put("eos_token", toks[eosTokenId()]);
        c.put("unk_token", unkTokenText());
        c.put("pad_token", padTokenText());
        c.put("chat_template", chatTemplate());
        c.put("clean_up_tokenization_spaces", false);
        c.put("model_max_length", maxPositions);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        return c;
    }

    /** The special_tokens_map.json content. */
    public Map<String, Object> specialTokensMap() {
        Map<String, Object> m = new HashMap<>();
        if (bosTokenText() != null) m.put("bos_token", bosTokenText());
        m.put("eos_token", tokenText(eosTokenId()));
        if (unkTokenText() != null) m.put("unk_token", unkTokenText());
        if (padTokenText() != null) m.put("pad_token", padTokenText());
        return Collections.unmodifiableMap(m);
    }

    @Override
    public String toString() {
        return arch.modelType + "[hidden=" + hidden + ", inter=" + intermediate + ", layers=" + layers + ", heads=" + heads + "/" + kvHeads
            + ", headDim=" + headDim() + ", vocab=" + vocab + ", " + dtype + (tied ? ", tied" : "") + ", shards=" + shards
            + (gpt2Prefixed ? ", prefixed" : "") + (ropeScaling != null ? ", " + ropeScaling : "")
            + (attentionBias ? ", attention_bias" : "") + (slidingWindow != null ? ", window=" + slidingWindow + " from layer " + slidingFromLayer : "")
            + ", seed=" + seed + "]";
    }
}
