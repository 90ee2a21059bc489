package dev.gatehouse.gateway.chat;

import java.util.List;

/**
 * The one internal event stream every backend produces and every dialect encoder consumes.
 * Choices are numbered from 0; each ends with one {@link Finish}; {@link Usage} comes last.
 */
public sealed interface ChatEvent {

    /** New text for one choice, with the logprobs of the tokens that made it when asked for. */
    record Delta(int index, String text, List<TokenLogprob> logprobs) implements ChatEvent {}

    /** A choice ended: "stop" or "length" (OpenAI's words). */
    record Finish(int index, String reason) implements ChatEvent {}

    /** Token counts for the whole request, all choices together. */
    record Usage(int promptTokens, int completionTokens) implements ChatEvent {
        public int totalTokens() {
            return promptTokens + completionTokens;
        }
    }

    /** One generated token's log probability and the most likely alternatives. */
    record TokenLogprob(String token, float logprob, List<TopLogprob> top) {}

    record TopLogprob(String token, float logprob) {}
}
