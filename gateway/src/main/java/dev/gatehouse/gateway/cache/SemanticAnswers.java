package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.chat.ChatEvent;

import java.util.List;

/**
 * Where the semantic cache keeps its answers beside their messages' unit vectors: {@link InMemorySemanticAnswers}
 * for this instance, or {@code store.PgvectorAnswers} in PostgreSQL, shared by every instance using the same
 * database. Only answers of the same context (see {@link SemanticCache}) are compared, and only unexpired ones.
 */
public interface SemanticAnswers {
    /** The nearest stored message's similarity, and its answer when that is at least the threshold asked for. */
    record Nearest(float similarity, List<ChatEvent> answer) {}

    /** The stored message most similar to {@code unit} in {@code context}; null when there is none. */
    Nearest nearest(float[] unit, long context, double threshold);

    /** Stores an answer; beyond the size cap the oldest makes room. */
    void add(float[] unit, long context, List<ChatEvent> answer);
}
