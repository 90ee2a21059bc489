package dev.gatehouse.gateway.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.route.Destination;
import dev.gatehouse.gateway.usage.Pricing;

import java.util.List;

/**
 * The most one request can cost, which a key with a budget reserves before the request runs: at the
 * dearest target the model may be routed to, the prompt's largest token count at its input price plus
 * the completion's (max_tokens, or the target's context when the request sets none, for every choice)
 * at its output price.
 *
 * <p>The prompt is bounded by its text: one token per UTF-8 byte (no byte-level BPE or SentencePiece
 * tokenizer makes more), {@link #FRAME_TOKENS} per message, part or prompt for the role and the
 * template's markers around it, and {@link #TEMPLATE_TOKENS} for a template's own text (a default
 * system prompt, a date header). A model whose template adds more than that can cost more than it
 * reserved, by that much.
 */
public final class CostCeiling {
    /** Tokens a chat template or provider adds once per request (default system prompts run to a few dozen). */
    static final long TEMPLATE_TOKENS = 128;
    /** Tokens around each message, content part or prompt: role headers, separators, end markers. */
    static final long FRAME_TOKENS = 8;

    private CostCeiling() {
    }

    /**
     * Dollars, at most, that {@code body} can cost at any of {@code destinations}. {@code defaultMaxTokens}
     * is the endpoint's completion length when the body sets none: null for chat (the context's room),
     * 16 for /v1/completions, 0 for embeddings. A target without a price is a 403; with no bound on the
     * completion at a target that charges for output, a 400 asking for max_tokens.
     */
    public static double of(JsonNode body, List<Destination> destinations, Integer defaultMaxTokens, Pricing pricing) {
        String model = body.path("model").asText();
        long prompt = promptTokens(body);
        Long perChoice = maxTokens(body, defaultMaxTokens);
        long choices = RateLimiter.choices(body);
        double most = 0;
        for (Destination d : destinations) {
            ProviderConfig.Prices prices = pricing.prices(d.backend());
            if (prices == null) {
                throw new ApiException(403, "invalid_request_error", "model_not_priced", "model", "This API key has a "
                        + "budget, so it may only use models with a price: '" + model + "' may be answered by '"
                        + d.backend() + "', which has none in gatehouse.yaml.", null);
            }
            Long completion = perChoice != null ? perChoice : d.contextLength() == null ? null : (long) d.contextLength();
            if (completion == null) {
                if (prices.outputPerMillion() != null && prices.outputPerMillion() > 0) {
                    throw new ApiException(400, "invalid_request_error", "max_tokens_required", "max_tokens",
                            "This API key has a budget, so a request to '" + model + "' must set max_tokens (or "
                                    + "max_completion_tokens): the most it can cost has to be known before it runs.", null);
                }
                completion = 0L;
            }
            most = Math.max(most, prices.cost(prompt, saturatedProduct(completion, choices)));
        }
        return most;
    }

    /** The most tokens the prompt (messages, prompt or input) can come to; see the class comment. */
    static long promptTokens(JsonNode body) {
        long tokens = TEMPLATE_TOKENS;
        for (String field : new String[]{"messages", "prompt", "input"}) {
            tokens += tokens(body.path(field));
        }
        return tokens;
    }

    private static long tokens(JsonNode n) {
        if (n.isTextual()) {
            return utf8Bytes(n.textValue());
        }
        if (n.isNumber()) {
            return 1; // a token id
        }
        if (!n.isContainerNode()) {
            return 0;
        }
        long sum = FRAME_TOKENS;
        for (JsonNode child : n) { // messages, their fields, content parts, lists of prompts or token ids
            sum += tokens(child);
        }
        return sum;
    }

    private static long utf8Bytes(String s) {
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3; // a pair is 4 bytes
        }
        return bytes;
    }

    /** max_completion_tokens or max_tokens when a positive whole number (a bad one is the handler's 400). */
    private static Long maxTokens(JsonNode body, Integer defaultMaxTokens) {
        JsonNode max = body.hasNonNull("max_completion_tokens") ? body.get("max_completion_tokens") : body.path("max_tokens");
        if (max.canConvertToLong() && max.asLong() > 0) {
            return max.asLong();
        }
        return defaultMaxTokens == null ? null : (long) defaultMaxTokens;
    }

    private static long saturatedProduct(long a, long b) {
        long p = a * b;
        return (a != 0 && (p / a != b || p < 0)) ? Long.MAX_VALUE : p;
    }
}
