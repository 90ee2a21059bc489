package dev.gatehouse.serving.embed;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.serving.load.Json;
import dev.gatehouse.serving.load.ModelLoadException;

import java.nio.file.Path;

/** The fields of a BERT {@code config.json} that the encoder needs. */
public record EncoderConfig(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
                            int maxPositions, int typeVocabSize, double layerNormEps, String hiddenAct) {

    public static EncoderConfig load(Path folder) {
        Path file = folder.resolve("config.json");
        JsonNode cfg = Json.read(file);
        String modelType = cfg.path("model_type").asText("");
        if (!modelType.equals("bert")) {
            throw new ModelLoadException(file + ": model_type '" + modelType + "' is not an encoder Gatehouse runs (bert)");
        }
        EncoderConfig c = new EncoderConfig(required(cfg, "vocab_size", file), required(cfg, "hidden_size", file),
                required(cfg, "num_hidden_layers", file), required(cfg, "num_attention_heads", file),
                required(cfg, "intermediate_size", file), required(cfg, "max_position_embeddings", file),
                cfg.path("type_vocab_size").asInt(2), cfg.path("layer_norm_eps").asDouble(1e-12),
                cfg.path("hidden_act").asText("gelu"));
        if (c.hiddenSize % c.numHeads != 0) {
            throw new ModelLoadException(file + ": hidden_size " + c.hiddenSize + " is not a multiple of num_attention_heads " + c.numHeads);
        }
        if (!c.hiddenAct.equals("gelu") && !c.hiddenAct.equals("gelu_new") && !c.hiddenAct.equals("gelu_pytorch_tanh")) {
            throw new ModelLoadException(file + ": hidden_act '" + c.hiddenAct + "' is not supported (gelu, gelu_new, gelu_pytorch_tanh)");
        }
        return c;
    }

    /** Whether config.json describes an encoder (embedding) model rather than a causal LM. */
    public static boolean isEncoder(JsonNode config) {
        for (JsonNode a : config.path("architectures")) {
            if (a.asText().equals("BertModel")) {
                return true;
            }
        }
        return config.path("model_type").asText("").equals("bert");
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    private static int required(JsonNode cfg, String key, Path file) {
        JsonNode v = cfg.path(key);
        if (!v.isInt()) {
            throw new ModelLoadException(file + ": " + key + " is missing or not an integer");
        }
        return v.intValue();
    }
}
