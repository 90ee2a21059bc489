package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.chat.ChatEvent;

import java.util.List;

/**
 * Where the response cache keeps answers: {@link InMemoryAnswers} for this instance, or
 * {@code shared.RedisAnswers} for every instance sharing one Redis. Keys are {@link CacheKey}s.
 */
public interface AnswerStore {
    /** The stored answer, or null. */
    List<ChatEvent> get(String key);

    void put(String key, List<ChatEvent> events);

    /** Drops every answer of {@code model} (keys start with its name and a newline). */
    void forget(String model);
}
