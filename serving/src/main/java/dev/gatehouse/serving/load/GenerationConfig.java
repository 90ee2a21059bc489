package dev.gatehouse.serving.load;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.List;

/** {@code generation_config.json}: the end-of-sequence ids (one or a list). Absent file: empty. */
public record GenerationConfig(List<Integer> eosTokenIds) {
    public static GenerationConfig load(Path folder) {
        JsonNode g = Json.readIfExists(folder.resolve("generation_config.json"));
        return new GenerationConfig(ModelConfig.ids(g.path("eos_token_id")));
    }
}
