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

    /** A choice ended; {@code stopSequence}: the stop sequence that ended it, when the backend says which (else null). */
    record Finish(int index, FinishReason reason, String stopSequence) implements ChatEvent {
        public Finish(int index, FinishReason reason) {
            this(index, reason, null);
        }
    }

    /** Token counts for the whole request, all choices together. */
    record Usage(int promptTokens, int completionTokens) implements ChatEvent {
        public int totalTokens() {
            return promptTokens + completionTokens;
        }
    }

    /**
     * One event (or the whole answer) exactly as a target that was sent the client's original body
     * (see {@link OriginalRequest}) answered it, in the client's own dialect. It comes just before the
     * events translated from it, which usage, the cache and metrics read as from any backend; the
     * dialect's encoder sends the client these instead of encoding the translation. Other encoders
     * never see one (only a request in their dialect carries an original body) and skip it.
     */
    record Raw(com.fasterxml.jackson.databind.JsonNode data) implements ChatEvent {}

    /** One generated token's log probability and the most likely alternatives. */
    record TokenLogprob(String token, float logprob, List<TopLogprob> top) {}

    record TopLogprob(String token, float logprob) {}
}
