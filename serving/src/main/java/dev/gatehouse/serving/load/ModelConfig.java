package dev.gatehouse.serving.load;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The architecture-relevant part of a Hugging Face {@code config.json}, normalised across families
 * (GPT-2 names its fields differently: n_embd, n_layer, ...).
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
        boolean qkNorm,
        Integer slidingWindow,
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
        Integer window = null;
        boolean windowOn = c.path("use_sliding_window").asBoolean(!qwen2 && !qwen3);
        if (windowOn && c.hasNonNull("sliding_window")) {
            window = c.get("sliding_window").asInt();
        }
        return new ModelConfig(arch, Family.LLAMA, hidden, required(c, "intermediate_size"),
                required(c, "num_hidden_layers"), heads, kvHeads, headDim, required(c, "vocab_size"),
                optional(c, "max_position_embeddings", 2048), c.path("rms_norm_eps").asDouble(1e-6),
                c.path("rope_theta").asDouble(10000), ropeScaling(c.path("rope_scaling")),
                qwen2 || c.path("attention_bias").asBoolean(false), qwen3, window,
                c.path("tie_word_embeddings").asBoolean(false), ids(c.path("eos_token_id")), optInt(c, "bos_token_id"));
    }

    private static ModelConfig gpt2(JsonNode c) {
        int hidden = required(c, "n_embd");
        int heads = required(c, "n_head");
        int inner = optional(c, "n_inner", 4 * hidden);
        int headDim = evenSplit(hidden, heads, "n_embd", "n_head");
        String act = c.path("activation_function").asText("gelu_new");
        if (!act.equals("gelu_new")) {
            throw new IllegalArgumentException("GPT-2 activation_function " + act + " is not supported (only gelu_new)");
        }
        return new ModelConfig("GPT2LMHeadModel", Family.GPT2, hidden, inner, required(c, "n_layer"), heads, heads,
                headDim, required(c, "vocab_size"), optional(c, "n_positions", 1024),
                c.path("layer_norm_epsilon").asDouble(1e-5), 0, null, true, false, null,
                c.path("tie_word_embeddings").asBoolean(true), ids(c.path("eos_token_id")), optInt(c, "bos_token_id"));
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

    /** Number of query heads that share one key/value head (grouped-query attention). */
    public int groupSize() {
        return numHeads / numKvHeads;
    }
}
