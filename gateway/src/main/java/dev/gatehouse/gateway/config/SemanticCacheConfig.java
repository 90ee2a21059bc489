package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.serving.embed.AllMiniLmL6V2;

import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * {@code semantic-cache:} in gatehouse.yaml: reuse an answer for a message that means nearly the same
 * as an earlier one (see {@code SemanticCache}). Off without the section.
 *
 * @param models         the models or routes it serves (required: it is never on for every model by surprise)
 * @param embeddingModel the local embedding model that compares messages (default the built-in all-MiniLM-L6-v2)
 * @param threshold      cosine similarity at or above which an answer is reused (default 0.95: near paraphrases only)
 * @param ttl            how long a stored answer may be reused
 * @param maxEntries     stored answers at most; the oldest is replaced beyond it
 * @param shared         whether one caller's answer may serve another (as {@code cache.shared})
 * @param sampled        also for requests with sampling randomness (temperature above 0 without a seed)
 * @param withTools      also for requests that offer tools
 */
public record SemanticCacheConfig(List<String> models, String embeddingModel, double threshold, Duration ttl,
                                  int maxEntries, boolean shared, boolean sampled, boolean withTools) {
    public static final SemanticCacheConfig OFF = new SemanticCacheConfig(List.of(), AllMiniLmL6V2.NAME, 0.95,
            Duration.ofHours(1), 10_000, false, false, false);

    public boolean enabled() {
        return !models.isEmpty();
    }

    static SemanticCacheConfig parse(JsonNode n) {
        String where = "semantic-cache";
        if (n.isMissingNode()) {
            return OFF;
        }
        GatehouseConfig.requireObject(n, where);
        GatehouseConfig.allowKeys(n, where, Set.of("models", "embedding-model", "threshold", "ttl", "max-entries",
                "shared", "sampled", "with-tools"));
        List<String> models = GatehouseConfig.modelNames(n, "models", where);
        if (models.isEmpty()) {
            throw new ConfigException(where + ".models: name the models or routes to cache, e.g. [assistant]");
        }
        double threshold = OFF.threshold();
        if (n.has("threshold")) {
            JsonNode v = n.get("threshold");
            if (!v.isNumber() || v.asDouble() <= 0 || v.asDouble() > 1) {
                throw new ConfigException(where + ".threshold must be a number above 0 and at most 1 (default 0.95)");
            }
            threshold = v.asDouble();
        }
        Duration ttl = OFF.ttl();
        if (n.has("ttl")) {
            try {
                ttl = IdleDuration.parse(GatehouseConfig.text(n, "ttl", where));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(where + ".ttl: " + e.getMessage());
            }
        }
        Integer maxEntries = GatehouseConfig.positive(n, "max-entries", where);
        return new SemanticCacheConfig(models,
                n.has("embedding-model") ? GatehouseConfig.text(n, "embedding-model", where) : OFF.embeddingModel(),
                threshold, ttl, maxEntries == null ? OFF.maxEntries() : maxEntries, flag(n, "shared"), flag(n, "sampled"),
                flag(n, "with-tools"));
    }

    private static boolean flag(JsonNode n, String key) {
        JsonNode v = n.path(key);
        if (!v.isMissingNode() && !v.isBoolean()) {
            throw new ConfigException("semantic-cache." + key + " must be true or false");
        }
        return v.asBoolean(false);
    }
}
