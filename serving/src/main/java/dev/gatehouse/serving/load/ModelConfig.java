package dev.gatehouse.serving.load;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The architecture-relevant part of a Hugging Face {@code config.json}, normalised across families
 * (GPT-2 names its fields differently: n_embd, n_layer, ...). Each field is read as transformers'
 * config class for the architecture reads it, defaults included; a setting that would change the
 * computation in a way the engine does not implement (another activation, MLP biases, ...) is
 * refused rather than ignored.
 *
 * @param qkvBias q/k/v projections carry biases (Qwen2 always; Llama and Qwen3 with {@code attention_bias})
 * @param outBias the attention output projection carries a bias (Llama and Qwen3 with {@code attention_bias})
 * @param slidingWindow keys visible to a query in a windowed layer, itself included; null when no layer is windowed
 * @param slidingWindowLayers the layers that use {@code slidingWindow}; the others attend to the whole sequence
 */
public record ModelConfig(
        String architecture,
        Family family,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        int vocabSize,
        int maxPositions,
        double normEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean qkvBias,
        boolean outBias,
        boolean qkNorm,
        Integer slidingWindow,
        List<Integer> slidingWindowLayers,
        boolean tieWordEmbeddings,
        List<Integer> eosTokenIds,
        Integer bosTokenId) {

    /** The code path that runs an architecture: the Llama family shares one implementation. */
    public enum Family { LLAMA, GPT2 }

    public static final List<String> SUPPORTED = List.of(
            "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "GPT2LMHeadModel");

    public static ModelConfig load(Path folder) {
        Path file = folder.resolve("config.json");
        JsonNode c = Json.read(file);
        String arch = c.path("architectures").path(0).asText(null);
        if (arch == null) {
            throw new ModelLoadException(file + " names no architecture (\"architectures\" is missing)");
        }
        try {
            return switch (arch) {
                case "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM" -> llama(arch, c);
                case "GPT2LMHeadModel" -> gpt2(c);
                default -> throw new ModelLoadException("architecture " + arch + " in " + file
                        + " is not supported; supported: " + String.join(", ", SUPPORTED));
            };
        } catch (IllegalArgumentException e) {
            throw new ModelLoadException(file + ": " + e.getMessage(), e);
        }
    }

    private static ModelConfig llama(String arch, JsonNode c) {
        int hidden = required(c, "hidden_size");
        int heads = required(c, "num_attention_heads");
        int kvHeads = optional(c, "num_key_value_heads", heads);
        int headDim = c.hasNonNull("head_dim") ? optional(c, "head_dim", 0)
                : evenSplit(hidden, heads, "hidden_size", "num_attention_heads");
        if (heads % kvHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        boolean qwen2 = arch.equals("Qwen2ForCausalLM");
        boolean qwen3 = arch.equals("Qwen3ForCausalLM");
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu") && !act.equals("swish")) { // transformers maps both names to SiLU
            throw new IllegalArgumentException("hidden_act '" + act + "' is not supported for " + arch + " (only silu)");
        }
        if (c.path("mlp_bias").asBoolean(false)) {
            throw new IllegalArgumentException("mlp_bias true is not supported (MLP projections without biases only)");
        }
        // transformers: Llama and Qwen3 put a bias on q, k, v and o when attention_bias is set; Qwen2
        // always on q, k, v and never on o; Mistral never
        boolean attentionBias = (arch.equals("LlamaForCausalLM") || qwen3) && c.path("attention_bias").asBoolean(false);
        int layers = required(c, "num_hidden_layers");
        Integer window = slidingWindow(arch, c);
        return new ModelConfig(arch, Family.LLAMA, hidden, required(c, "intermediate_size"),
                layers, heads, kvHeads, headDim, required(c, "vocab_size"),
                optional(c, "max_position_embeddings", 2048), c.path("rms_norm_eps").asDouble(1e-6),
                c.path("rope_theta").asDouble(10000), ropeScaling(c.path("rope_scaling")),
                qwen2 || attentionBias, attentionBias, qwen3, window,
                window == null ? List.of() : windowedLayers(arch, c, layers),
                c.path("tie_word_embeddings").asBoolean(false), ids(c.path("eos_token_id")), optInt(c, "bos_token_id"));
    }

    /**
     * The sliding window as transformers reads it: Mistral uses {@code sliding_window} (4096 when
     * absent, none when null); Qwen2 and Qwen3 only when {@code use_sliding_window} is true (it
     * defaults to false); Llama has no window.
     */
    private static Integer slidingWindow(String arch, JsonNode c) {
        boolean windowed = switch (arch) {
            case "MistralForCausalLM" -> true;
            case "Qwen2ForCausalLM", "Qwen3ForCausalLM" -> c.path("use_sliding_window").asBoolean(false);
            default -> false;
        };
        if (!windowed) {
            return null;
        }
        return c.has("sliding_window") && c.get("sliding_window").isNull() ? null : optional(c, "sliding_window", 4096);
    }

    /**
     * Which layers use the window: {@code layer_types} when the config lists them (transformers 4.53
     * and later write it), else for Qwen2/Qwen3 the layers from {@code max_window_layers} (default 28)
     * on, and for Mistral every layer.
     */
    private static List<Integer> windowedLayers(String arch, JsonNode c, int layers) {
        List<Integer> windowed = new ArrayList<>();
        JsonNode types = c.get("layer_types");
        if (types != null && !types.isNull()) {
            if (!types.isArray() || types.size() != layers) {
                throw new IllegalArgumentException("\"layer_types\" must list one type per layer (" + layers + "): " + types);
            }
            for (int i = 0; i < layers; i++) {
                String type = types.get(i).asText();
                if (type.equals("sliding_attention")) {
                    windowed.add(i);
                } else if (!type.equals("full_attention")) {
                    throw new IllegalArgumentException("\"layer_types\" entry " + i + " is '" + type
                            + "' (supported: full_attention, sliding_attention)");
                }
            }
            return List.copyOf(windowed);
        }
        int first = arch.equals("MistralForCausalLM") ? 0 : c.path("max_window_layers").asInt(28);
        for (int i = Math.max(0, first); i < layers; i++) {
            windowed.add(i);
        }
        return List.copyOf(windowed);
    }

    private static ModelConfig gpt2(JsonNode c) {
        int hidden = required(c, "n_embd");
        int heads = required(c, "n_head");
        int inner = optional(c, "n_inner", 4 * hidden);
        int headDim = evenSplit(hidden, heads, "n_embd", "n_head");
        String act = c.path("activation_function").asText("gelu_new");
        if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) { // the same tanh approximation
            throw new IllegalArgumentException("GPT-2 activation_function '" + act
                    + "' is not supported (only gelu_new, gelu_pytorch_tanh)");
        }
        if (!c.path("scale_attn_weights").asBoolean(true) || c.path("scale_attn_by_inverse_layer_idx").asBoolean(false)) {
            throw new IllegalArgumentException("GPT-2 attention scaling other than 1/sqrt(head_dim) is not supported "
                    + "(scale_attn_weights must be true, scale_attn_by_inverse_layer_idx false)");
        }
        if (!c.path("tie_word_embeddings").asBoolean(true)) {
            throw new IllegalArgumentException("GPT-2 with tie_word_embeddings false is not supported "
                    + "(the output layer is always the token embedding wte)");
        }
        return new ModelConfig("GPT2LMHeadModel", Family.GPT2, hidden, inner, required(c, "n_layer"), heads, heads,
                headDim, required(c, "vocab_size"), optional(c, "n_positions", 1024),
                c.path("layer_norm_epsilon").asDouble(1e-5), 0, null, true, true, false, null, List.of(),
                true, ids(c.path("eos_token_id")), optInt(c, "bos_token_id"));
    }

    private static RopeScaling ropeScaling(JsonNode s) {
        if (s.isMissingNode() || s.isNull()) {
            return null;
        }
        String type = s.path("rope_type").asText(s.path("type").asText(""));
        if (type.equals("default")) {
            return null;
        }
        if (!type.equals("llama3")) {
            throw new IllegalArgumentException("rope_scaling type '" + type + "' is not supported (only llama3)");
        }
        return new RopeScaling(s.path("factor").asDouble(8), s.path("low_freq_factor").asDouble(1),
                s.path("high_freq_factor").asDouble(4), s.path("original_max_position_embeddings").asInt(8192));
    }

    static List<Integer> ids(JsonNode node) {
        List<Integer> ids = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> ids.add(n.asInt()));
        } else if (node.isNumber()) {
            ids.add(node.asInt());
        }
        return List.copyOf(ids);
    }

    private static Integer optInt(JsonNode c, String field) {
        return c.hasNonNull(field) && c.get(field).isNumber() ? c.get(field).asInt() : null;
    }

    private static int required(JsonNode c, String field) {
        JsonNode n = c.get(field);
        if (n == null || !isPositiveInt(n)) {
            throw new IllegalArgumentException("\"" + field + "\" is missing or not a positive integer");
        }
        return n.asInt();
    }

    /** An optional size: absent or null gives the default, anything else must be a positive integer (0 would divide by zero later). */
    private static int optional(JsonNode c, String field, int byDefault) {
        JsonNode n = c.get(field);
        if (n == null || n.isNull()) {
            return byDefault;
        }
        if (!isPositiveInt(n)) {
            throw new IllegalArgumentException("\"" + field + "\" is not a positive integer: " + n);
        }
        return n.asInt();
    }

    /** canConvertToInt alone accepts 2.5 (as 2), and "64" is text: only whole numbers in int range pass. */
    private static boolean isPositiveInt(JsonNode n) {
        return n.isNumber() && n.canConvertToInt() && n.asDouble() == n.asInt() && n.asInt() > 0;
    }

    /** Heads split the hidden size when the config gives no head_dim; an uneven split is a broken config. */
    private static int evenSplit(int hidden, int heads, String hiddenField, String headsField) {
        if (hidden % heads != 0) {
            throw new IllegalArgumentException(hiddenField + " " + hidden + " is not a multiple of " + headsField + " " + heads);
        }
        return hidden / heads;
    }

    /** The sliding window of one layer, or null when that layer attends to the whole sequence. */
    public Integer slidingWindow(int layer) {
        return slidingWindowLayers.contains(layer) ? slidingWindow : null;
    }

    /** Number of query heads that share one key/value head (grouped-query attention). */
    public int groupSize() {
        return numHeads / numKvHeads;
    }
}
