package dev.gatehouse.gateway.chat;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;
import java.util.Map;

/**
 * The one internal request every inbound dialect decodes to and every backend serves: either a
 * conversation ({@code messages}) or raw {@code prompts} (the completions API: one or more, each
 * answered with {@code n} choices). See docs/internal-representation.md.
 *
 * @param maxTokens null = as many as the context leaves room for
 * @param tools the functions the model may call; empty when none
 * @param toolChoice null = the provider's default (auto when there are tools)
 * @param parallelToolCalls null = the provider's default (allowed)
 * @param responseFormat null = plain text
 * @param passthrough request fields Gatehouse does not interpret (reasoning_effort, metadata, ...),
 *                    as the client sent them, for targets that speak the client's dialect; empty when none
 * @param original    the client's body, for a target that takes it unchanged; null when the dialect has
 *                    no such target (chat completions) or a plugin changed what the model reads
 */
public record ChatRequest(
        String model,
        List<Message> messages,
        List<String> prompts,
        Integer maxTokens,
        Sampling sampling,
        int n,
        boolean echo,
        boolean stream,
        boolean includeUsage,
        String user,
        List<Tool> tools,
        ToolChoice toolChoice,
        Boolean parallelToolCalls,
        ResponseFormat responseFormat,
        Map<String, JsonNode> passthrough,
        OriginalRequest original) {

    /** How tokens are chosen; OpenAI's fields plus the vLLM extras (top_k, min_p, repetition_penalty). */
    public record Sampling(float temperature, float topP, int topK, float minP, float repetitionPenalty,
                           float presencePenalty, float frequencyPenalty, Long seed, List<String> stop,
                           boolean logprobs, int topLogprobs) {}

    public ChatRequest {
        tools = tools == null ? List.of() : List.copyOf(tools);
        passthrough = passthrough == null ? Map.of() : Map.copyOf(passthrough);
    }

    /** A request with no original body (see {@link OriginalRequest}). */
    public ChatRequest(String model, List<Message> messages, List<String> prompts, Integer maxTokens, Sampling sampling,
                       int n, boolean echo, boolean stream, boolean includeUsage, String user, List<Tool> tools,
                       ToolChoice toolChoice, Boolean parallelToolCalls, ResponseFormat responseFormat,
                       Map<String, JsonNode> passthrough) {
        this(model, messages, prompts, maxTokens, sampling, n, echo, stream, includeUsage, user, tools, toolChoice,
                parallelToolCalls, responseFormat, passthrough, null);
    }

    /** A request without tools, response format or passthrough fields. */
    public ChatRequest(String model, List<Message> messages, List<String> prompts, Integer maxTokens, Sampling sampling,
                       int n, boolean echo, boolean stream, boolean includeUsage, String user) {
        this(model, messages, prompts, maxTokens, sampling, n, echo, stream, includeUsage, user, List.of(), null, null,
                null, Map.of());
    }

    /** The same request for another model name: the router sends a provider its own name for the model. */
    public ChatRequest withModel(String name) {
        return new ChatRequest(name, messages, prompts, maxTokens, sampling, n, echo, stream, includeUsage, user, tools,
                toolChoice, parallelToolCalls, responseFormat, passthrough, original);
    }

    /**
     * The same request with other messages and prompts (a plugin that rewrites what the model reads);
     * the client's original body no longer says what the model reads, so it is dropped.
     */
    public ChatRequest withInput(List<Message> messages, List<String> prompts) {
        return new ChatRequest(model, messages, prompts, maxTokens, sampling, n, echo, stream, includeUsage, user, tools,
                toolChoice, parallelToolCalls, responseFormat, passthrough, null);
    }

    /** The same request, translated for every target: without the client's original body. */
    public ChatRequest withoutOriginal() {
        return original == null ? this : new ChatRequest(model, messages, prompts, maxTokens, sampling, n, echo, stream,
                includeUsage, user, tools, toolChoice, parallelToolCalls, responseFormat, passthrough, null);
    }

    /** Whether the client's original body is here in {@code dialect}, for a target that takes it unchanged. */
    public boolean hasOriginal(OriginalRequest.Dialect dialect) {
        return original != null && original.dialect() == dialect;
    }

    /** The same request with another max_tokens (the router's continuation of a broken answer asks for what is left). */
    public ChatRequest withMaxTokens(Integer maxTokens) {
        return new ChatRequest(model, messages, prompts, maxTokens, sampling, n, echo, stream, includeUsage, user, tools,
                toolChoice, parallelToolCalls, responseFormat, passthrough, original);
    }

    /** The same request as far as its answer goes: how it travels and who asked left out (the cache key). */
    public ChatRequest answerFields() {
        return new ChatRequest(model, messages, prompts, maxTokens, sampling, n, echo, false, false, null, tools,
                toolChoice, parallelToolCalls, responseFormat, passthrough, original);
    }

    public boolean isChat() {
        return messages != null;
    }

    /** Choices in the answer: n, for each prompt; sample j of prompt i is choice i * n + j, as OpenAI numbers them. */
    public int choices() {
        return isChat() ? n : prompts.size() * n;
    }

    /** Whether the conversation involves tools: tools offered, or earlier calls and results in the history. */
    public boolean usesTools() {
        return !tools.isEmpty() || isChat() && messages.stream()
                .anyMatch(m -> !m.toolCalls().isEmpty() || Message.TOOL.equals(m.role()));
    }

    public boolean hasImages() {
        return isChat() && messages.stream().anyMatch(Message::hasImages);
    }
}
