package dev.gatehouse.serving.embed;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.serving.load.Json;
import dev.gatehouse.serving.load.ModelLoadException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What sentence-transformers does around the encoder, read from its files in a model folder:
 * {@code modules.json} (is there a Normalize module? where is the Pooling module's config?),
 * {@code 1_Pooling/config.json} (which pooling) and {@code sentence_bert_config.json}
 * ({@code max_seq_length}). A folder without them gets sentence-transformers' own fallback: mean
 * pooling, no normalisation, truncation at {@code max_position_embeddings}.
 *
 * @param maxSeqLength tokens per input, [CLS] and [SEP] included; longer inputs are truncated
 */
public record EmbeddingPipeline(Pooling pooling, boolean normalize, int maxSeqLength) {

    private static final String POOLING = "sentence_transformers.models.Pooling";
    private static final String NORMALIZE = "sentence_transformers.models.Normalize";

    public static EmbeddingPipeline load(Path folder, int maxPositions) {
        Path modules = folder.resolve("modules.json");
        Pooling pooling = Pooling.MEAN;
        boolean normalize = false;
        if (Files.exists(modules)) {
            for (JsonNode module : Json.read(modules)) {
                String type = module.path("type").asText();
                if (type.equals(NORMALIZE)) {
                    normalize = true;
                } else if (type.equals(POOLING)) {
                    pooling = poolingOf(folder.resolve(module.path("path").asText("1_Pooling")).resolve("config.json"));
                }
            }
        }
        int max = maxPositions;
        JsonNode sbert = Json.readIfExists(folder.resolve("sentence_bert_config.json"));
        if (sbert.path("max_seq_length").isInt()) {
            max = Math.min(max, sbert.path("max_seq_length").intValue());
        }
        return new EmbeddingPipeline(pooling, normalize, max);
    }

    private static Pooling poolingOf(Path file) {
        JsonNode cfg = Json.read(file);
        if (cfg.path("pooling_mode_cls_token").asBoolean(false)) {
            return Pooling.CLS;
        }
        if (cfg.path("pooling_mode_max_tokens").asBoolean(false)) {
            return Pooling.MAX;
        }
        if (cfg.path("pooling_mode_mean_tokens").asBoolean(false)) {
            return Pooling.MEAN;
        }
        throw new ModelLoadException(file + ": no pooling mode Gatehouse supports is on (cls_token, mean_tokens, max_tokens)");
    }
}
