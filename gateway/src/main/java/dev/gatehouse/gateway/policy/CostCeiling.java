package dev.gatehouse.gateway.policy;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.route.Destination;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;

import java.util.List;

/**
 * The most one request can cost, which a key with a budget reserves before the request runs: at the
 * dearest target the model may be routed to, the prompt's largest token count at its input price plus
 * the completion's (max_tokens, or the target's context when the request sets none, for every choice)
 * at its output price.
 *
 * <p>The prompt is bounded by its text: one token per UTF-8 byte (no byte-level BPE or SentencePiece
 * tokenizer makes more), {@link #FRAME_TOKENS} per message or prompt for the template's markers around
 * it, and {@link #TEMPLATE_TOKENS} for a template's own text (a default system prompt, a date
 * header). A model whose template adds more than that can cost more than it reserved, by that much.
 */
public final class CostCeiling {
    /** Tokens a chat template or provider adds once per request (default system prompts run to a few dozen). */
    static final long TEMPLATE_TOKENS = 128;
    /** Tokens around each message or prompt: role headers, separators, end markers. */
    static final long FRAME_TOKENS = 8;
    /** Tokens an image part can cost at a provider (OpenAI's high detail tops out below this). */
    static final long IMAGE_TOKENS = 2_000;

    private CostCeiling() {
    }

    /**
     * Dollars, at most, that {@code request} can cost at any of {@code destinations} (none: a model the
     * router does not know, refused later). A target without a price is a 403; with no bound on the
     * completion at a target that charges for output, a 400 asking for max_tokens.
     */
    public static double of(ChatRequest request, List<Destination> destinations, Pricing pricing) {
        long prompt = promptTokens(request);
        double most = 0;
        for (Destination d : destinations) {
            ProviderConfig.Prices prices = priced(request.model(), d, pricing);
            Long perChoice = request.maxTokens() != null ? Long.valueOf(request.maxTokens())
                    : d.contextLength() != null ? Long.valueOf(d.contextLength()) : null;
            if (perChoice == null && prices.outputPerMillion() != null && prices.outputPerMillion() > 0) {
                throw new ApiException(400, "invalid_request_error", "max_tokens_required", "max_tokens",
                        "This API key has a budget, so a request to '" + request.model() + "' must set max_tokens (or "
                                + "max_completion_tokens): the most it can cost has to be known before it runs.", null);
            }
            long completion = perChoice == null ? 0 : perChoice * request.choices(); // n <= 16, a few prompts: no overflow
            most = Math.max(most, prices.cost(prompt, completion));
        }
        return most;
    }

    /**
     * Dollars, at most, that embedding inputs estimated at {@code estimatedTokens} (characters / 4, see
     * TokenEstimate) can cost at local model {@code name}: a character is at most 3 UTF-8 bytes, a byte
     * at most a token, so 12 tokens per estimated one.
     */
    public static double ofEmbeddings(String name, long estimatedTokens, Pricing pricing) {
        Destination d = new Destination("local:" + name, null);
        return priced(name, d, pricing).cost(12 * estimatedTokens + TEMPLATE_TOKENS, 0);
    }

    private static ProviderConfig.Prices priced(String model, Destination d, Pricing pricing) {
        ProviderConfig.Prices prices = pricing.prices(d.backend());
        if (prices == null) {
            throw new ApiException(403, "invalid_request_error", "model_not_priced", "model", "This API key has a "
                    + "budget, so it may only use models with a price: '" + model + "' may be answered by '"
                    + d.backend() + "', which has none in gatehouse.yaml.", null);
        }
        return prices;
    }

    /** The most tokens the prompt can come to; see the class comment. */
    static long promptTokens(ChatRequest request) {
        long tokens = TEMPLATE_TOKENS;
        if (request.isChat()) {
            for (Message m : request.messages()) {
                tokens += FRAME_TOKENS + utf8Bytes(m.role());
                for (ContentPart part : m.content()) {
                    tokens += part instanceof ContentPart.Text t ? utf8Bytes(t.text()) : IMAGE_TOKENS;
                }
                for (ToolCall c : m.toolCalls()) {
                    tokens += FRAME_TOKENS + utf8Bytes(c.name()) + utf8Bytes(c.arguments());
                }
            }
            for (Tool t : request.tools()) { // the tool definitions are prompt too
                tokens += FRAME_TOKENS + utf8Bytes(t.name()) + utf8Bytes(t.description())
                        + utf8Bytes(t.parameters().toString());
            }
        } else {
            for (String p : request.prompts()) {
                tokens += FRAME_TOKENS + utf8Bytes(p);
            }
        }
        return tokens;
    }

    private static long utf8Bytes(String s) {
        if (s == null) {
            return 0;
        }
        long bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3; // a surrogate pair is 4 bytes
        }
        return bytes;
    }
}
