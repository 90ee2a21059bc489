package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.sample.SampledToken;

/** What a request's stream carries: tokens as they are sampled, then exactly one Finished or Failed. */
public sealed interface EngineEvent {

    /** One sampled token and the text it completed (may be empty: half a character, or held for a stop string). */
    record Token(String text, SampledToken token) implements EngineEvent {}

    /**
     * The end of a request; all its text came in Token events before it. {@code stopSequence}: the
     * stop string that ended it (never part of the text), null when it ended otherwise.
     */
    record Finished(FinishReason reason, Usage usage, RequestTimings timings, String stopSequence) implements EngineEvent {
        public Finished(FinishReason reason, Usage usage, RequestTimings timings) {
            this(reason, usage, timings, null);
        }
    }

    /** The request could not complete (cancelled, or an engine failure); nothing more follows. */
    record Failed(String message, boolean cancelled) implements EngineEvent {}

    /** Token counts in OpenAI's sense. */
    record Usage(int promptTokens, int completionTokens) {
        public int totalTokens() {
            return promptTokens + completionTokens;
        }
    }
}
