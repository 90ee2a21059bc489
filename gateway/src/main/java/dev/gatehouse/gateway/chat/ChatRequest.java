package dev.gatehouse.gateway.chat;

import dev.gatehouse.serving.text.ChatMessage;

import java.util.List;

/**
 * The one internal request every inbound dialect decodes to and every backend serves: either a
 * conversation ({@code messages}, rendered with the model's chat template) or raw {@code prompts}
 * (the completions API: one or more, each answered with {@code n} choices).
 *
 * @param maxTokens null = as many as the context leaves room for
 */
public record ChatRequest(
        String model,
        List<ChatMessage> messages,
        List<String> prompts,
        Integer maxTokens,
        Sampling sampling,
        int n,
        boolean echo,
        boolean stream,
        boolean includeUsage,
        String user) {

    /** How tokens are chosen; OpenAI's fields plus the vLLM extras (top_k, min_p, repetition_penalty). */
    public record Sampling(float temperature, float topP, int topK, float minP, float repetitionPenalty,
                           float presencePenalty, float frequencyPenalty, Long seed, List<String> stop,
                           boolean logprobs, int topLogprobs) {}

    /** The same request for another model name: the router sends a provider its own name for the model. */
    public ChatRequest withModel(String name) {
        return new ChatRequest(name, messages, prompts, maxTokens, sampling, n, echo, stream, includeUsage, user);
    }

    public boolean isChat() {
        return messages != null;
    }

    /** Choices in the answer: n, for each prompt; sample j of prompt i is choice i * n + j, as OpenAI numbers them. */
    public int choices() {
        return isChat() ? n : prompts.size() * n;
    }
}
