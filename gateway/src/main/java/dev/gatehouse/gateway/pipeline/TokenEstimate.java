package dev.gatehouse.gateway.pipeline;

import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;

/**
 * Tokens a request will cost, guessed before it runs so the rate limiter can count it (and corrected
 * once the backend reports real usage): the prompt's characters / 4 (OpenAI's rule of thumb) plus
 * the completion tokens asked for, for every choice.
 */
public final class TokenEstimate {
    /** Completion tokens assumed when a request names no max_tokens: the estimate is corrected after. */
    public static final int DEFAULT_COMPLETION_TOKENS = 256;

    private TokenEstimate() {}

    public static long of(ChatRequest request) {
        long completion = request.maxTokens() != null ? request.maxTokens() : DEFAULT_COMPLETION_TOKENS;
        return prompt(request) + completion * request.choices();
    }

    /** The prompt's tokens: every message's role and text, or every raw prompt, as characters / 4. */
    public static long prompt(ChatRequest request) {
        long chars = 0;
        if (request.isChat()) {
            for (Message m : request.messages()) {
                chars += m.role().length() + m.text().length();
                for (ToolCall c : m.toolCalls()) {
                    chars += c.name().length() + c.arguments().length();
                }
            }
            for (Tool t : request.tools()) { // providers count the tool definitions as prompt
                chars += t.name().length() + (t.description() == null ? 0 : t.description().length())
                        + t.parameters().toString().length();
            }
        } else {
            for (String p : request.prompts()) {
                chars += p.length();
            }
        }
        return fromChars(chars);
    }

    public static long fromChars(long chars) {
        return (chars + 3) / 4;
    }
}
