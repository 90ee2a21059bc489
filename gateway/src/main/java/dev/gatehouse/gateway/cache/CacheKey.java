package dev.gatehouse.gateway.cache;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.gatehouse.gateway.chat.ChatRequest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Which requests may be answered from the cache, and the key they are stored under: the SHA-256 of
 * the caller's scope and the whole {@link ChatRequest} as canonical JSON (sorted fields), with the
 * fields that change only how the answer travels ({@code stream}, {@code stream_options}) or the
 * client's own {@code user} tag blanked. Derived from the record itself, so a field added to it later is part of the key without
 * anyone remembering to add it here.
 */
public final class CacheKey {
    private static final ObjectMapper CANONICAL = JsonMapper.builder()
            .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
            .build();

    private CacheKey() {}

    /** Only answers that the same request would get again are worth keeping: greedy, or sampled from a given seed. */
    public static boolean deterministic(ChatRequest r) {
        return r.sampling().temperature() == 0f || r.sampling().seed() != null;
    }

    /**
     * The model's name, a newline, then the hash of {@code scope} (who may be served the answer; "" when
     * everyone) and the request: {@link ResponseCache#forget} finds a model's keys by the name.
     */
    public static String of(ChatRequest r, String scope) {
        try {
            return r.model() + "\n" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest((scope + "\n" + canonicalJson(r)).getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** What the key is hashed from: the request as canonical JSON, its delivery fields blanked. */
    static String canonicalJson(ChatRequest r) {
        try {
            return CANONICAL.writeValueAsString(r.answerFields());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the request as JSON", e); // records of strings and numbers
        }
    }
}
