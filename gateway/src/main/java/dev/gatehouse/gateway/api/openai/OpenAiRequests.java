package dev.gatehouse.gateway.api.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.Identifiers;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolChoice;
import dev.gatehouse.serving.sample.SamplingParams;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Decodes /v1/chat/completions and /v1/completions bodies into the internal {@link ChatRequest}. */
final class OpenAiRequests {
    /** Fields that change what the model must do and that Gatehouse cannot honour yet: refused, never dropped. */
    private static final List<String> UNSUPPORTED = List.of("logit_bias", "audio", "prediction", "web_search_options");
    /**
     * The fields this decoder reads. Any other field is passed through to targets that speak OpenAI's
     * dialect (reasoning_effort, metadata, service_tier, store, modalities, vLLM's extras, ...).
     */
    private static final Set<String> KNOWN = Set.of("model", "messages", "prompt", "max_tokens", "max_completion_tokens",
            "stream", "stream_options", "logprobs", "top_logprobs", "n", "stop", "temperature", "top_p", "top_k", "min_p",
            "repetition_penalty", "presence_penalty", "frequency_penalty", "seed", "user", "echo", "suffix", "best_of",
            "tools", "tool_choice", "functions", "function_call", "parallel_tool_calls", "response_format");
    private static final int MAX_N = 16;
    private static final int MAX_STOP = 4;

    private OpenAiRequests() {}

    static ChatRequest chat(JsonNode body) {
        RequestReader r = new RequestReader(body);
        refuseUnsupported(r);
        String model = r.requiredString("model");
        List<Message> messages = OpenAiMessages.decode(r.node("messages"));
        List<Tool> tools = OpenAiTools.tools(r);
        ToolChoice toolChoice = OpenAiTools.toolChoice(r, tools);
        // the legacy functions API answers with one function_call at most
        Boolean parallel = r.node("parallel_tool_calls") != null ? Boolean.valueOf(r.bool("parallel_tool_calls", true))
                : legacyFunctions(body) ? Boolean.FALSE : null;
        ResponseFormat format = OpenAiTools.responseFormat(r);
        Integer maxTokens = maxTokens(r, "max_completion_tokens", maxTokens(r, "max_tokens", null));
        boolean stream = r.bool("stream", false);
        boolean includeUsage = includeUsage(r);
        boolean logprobs = r.bool("logprobs", false);
        int topLogprobs = r.integer("top_logprobs", 0);
        if (topLogprobs > 0 && !logprobs) {
            throw ApiException.invalid("top_logprobs", "'top_logprobs' requires 'logprobs' to be true.");
        }
        ChatRequest plain = build(r, model, messages, null, maxTokens, logprobs, topLogprobs, false, stream, includeUsage);
        return new ChatRequest(plain.model(), plain.messages(), null, plain.maxTokens(), plain.sampling(), plain.n(), false,
                plain.stream(), plain.includeUsage(), plain.user(), tools, toolChoice, parallel, format, passthrough(body));
    }

    /** A client of the legacy functions API, which expects {@code message.function_call} back instead of tool_calls. */
    static boolean legacyFunctions(JsonNode body) {
        return body.path("functions").isArray() && !body.path("functions").isEmpty() && !body.hasNonNull("tools");
    }

    /** The fields of the body this decoder does not read, as the client sent them. */
    private static Map<String, JsonNode> passthrough(JsonNode body) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        body.fields().forEachRemaining(f -> {
            if (!KNOWN.contains(f.getKey()) && !UNSUPPORTED.contains(f.getKey()) && !f.getValue().isNull()) {
                out.put(f.getKey(), f.getValue());
            }
        });
        return out;
    }

    static ChatRequest completion(JsonNode body) {
        RequestReader r = new RequestReader(body);
        refuseUnsupported(r);
        String model = r.requiredString("model");
        List<String> prompts = r.strings("prompt"); // token-id arrays are refused here as a wrong type
        if (prompts.isEmpty()) {
            throw ApiException.invalid("prompt", r.node("prompt") == null
                    ? "Missing required parameter: 'prompt'." : "'prompt' must contain at least one prompt.");
        }
        if (prompts.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("prompt", "'prompt' must not be empty.");
        }
        Integer maxTokens = maxTokens(r, "max_tokens", 16); // the completions API's own default
        // legacy logprobs is the number of alternatives: checked here so the error names it, not top_logprobs
        Integer logprobs = r.integer("logprobs", null);
        if (logprobs != null && (logprobs < 0 || logprobs > SamplingParams.MAX_TOP_LOGPROBS)) {
            throw ApiException.invalid("logprobs", "'logprobs' must be between 0 and " + SamplingParams.MAX_TOP_LOGPROBS
                    + ", got " + logprobs + ".");
        }
        // suffix (insertion) and best_of (server-side reranking) change the answer: refused, not dropped
        if (!r.string("suffix", "").isEmpty()) {
            throw ApiException.invalid("suffix", "'suffix' is not supported by Gatehouse yet.");
        }
        Integer bestOf = r.integer("best_of", null);
        if (bestOf != null && !bestOf.equals(r.integer("n", 1))) {
            throw ApiException.invalid("best_of", "'best_of' is not supported by Gatehouse yet; leave it out or equal to 'n'.");
        }
        boolean stream = r.bool("stream", false);
        boolean includeUsage = includeUsage(r);
        return build(r, model, null, prompts, maxTokens, logprobs != null, logprobs == null ? 0 : logprobs,
                r.bool("echo", false), stream, includeUsage);
    }

    /** max_tokens or max_completion_tokens: a positive integer, the error naming the field the client sent. */
    private static Integer maxTokens(RequestReader r, String field, Integer fallback) {
        Integer v = r.integer(field, fallback);
        if (v != null && v < 1) {
            throw ApiException.invalid(field, "'" + field + "' must be at least 1, got " + v + ".");
        }
        return v;
    }

    private static boolean includeUsage(RequestReader r) {
        RequestReader options = r.object("stream_options");
        return options != null && options.bool("include_usage", false);
    }

    private static ChatRequest build(RequestReader r, String model, List<Message> messages, List<String> prompts,
                                     Integer maxTokens, boolean logprobs, int topLogprobs, boolean echo, boolean stream,
                                     boolean includeUsage) {
        int n = r.integer("n", 1);
        if (n < 1 || n > MAX_N) {
            throw ApiException.invalid("n", "'n' must be between 1 and " + MAX_N + ", got " + n + ".");
        }
        List<String> stop = r.strings("stop");
        if (stop.size() > MAX_STOP) {
            throw ApiException.invalid("stop", "'stop' takes at most " + MAX_STOP + " sequences.");
        }
        stop.forEach(s -> Identifiers.requireShort(s, "stop"));
        if (stop.stream().anyMatch(String::isEmpty)) {
            throw ApiException.invalid("stop", "'stop' sequences must not be empty.");
        }
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(r.number("temperature", 1f), r.number("top_p", 1f),
                r.integer("top_k", 0) == -1 ? 0 : r.integer("top_k", 0), r.number("min_p", 0f),
                r.number("repetition_penalty", 1f), r.number("presence_penalty", 0f), r.number("frequency_penalty", 0f),
                r.longValue("seed"), stop, logprobs, topLogprobs);
        validate(sampling, maxTokens);
        return new ChatRequest(model, messages, prompts, maxTokens, sampling, n, echo, stream, includeUsage,
                r.string("user", null));
    }

    /** The engine's own checks, run now so the client hears about the field before anything is queued. */
    private static void validate(ChatRequest.Sampling s, Integer maxTokens) {
        try {
            new SamplingParams(s.temperature(), s.topK(), s.topP(), s.minP(), s.repetitionPenalty(), s.presencePenalty(),
                    s.frequencyPenalty(), s.seed(), maxTokens == null ? 1 : maxTokens, s.stop(), s.logprobs(),
                    s.topLogprobs(), false).validate();
        } catch (IllegalArgumentException e) {
            String param = e.getMessage().split(" ", 2)[0];
            throw ApiException.invalid(param, "Invalid '" + param + "': " + e.getMessage().substring(param.length()).trim() + ".");
        }
    }

    private static void refuseUnsupported(RequestReader r) {
        for (String field : UNSUPPORTED) {
            JsonNode n = r.node(field);
            // Clients send the defaults explicitly too: logit_bias {}.
            boolean noOp = n != null && n.isContainerNode() && n.isEmpty();
            if (n != null && !noOp) {
                throw ApiException.invalid(field, "'" + field + "' is not supported by Gatehouse yet.");
            }
        }
    }
}
