package dev.gatehouse.gateway.chat;

import java.util.List;

/**
 * The one internal event stream every backend produces and every dialect encoder consumes.
 * Choices are numbered from 0; each ends with one {@link Finish}; {@link Usage} comes last. A tool
 * call of a choice is numbered by {@code call} (0, 1, ... in the order the model started them) and
 * arrives as one {@link ToolCallStart}, its arguments in {@link ToolCallDelta} fragments (calls of
 * one choice may interleave), then one {@link ToolCallEnd}.
 */
public sealed interface ChatEvent {

    /** New text for one choice, with the logprobs of the tokens that made it when asked for. */
    record Delta(int index, String text, List<TokenLogprob> logprobs) implements ChatEvent {}

    /** A tool call begins: the id its result will refer to and the tool's name. */
    record ToolCallStart(int index, int call, String id, String name) implements ChatEvent {}

    /** The next fragment of a tool call's arguments (JSON text, possibly cut anywhere). */
    record ToolCallDelta(int index, int call, String arguments) implements ChatEvent {}

    /** A tool call's arguments are complete. */
    record ToolCallEnd(int index, int call) implements ChatEvent {}

    /** A choice ended. */
    record Finish(int index, FinishReason reason) implements ChatEvent {}

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
