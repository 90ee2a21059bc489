package dev.gatehouse.gateway.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.config.CacheConfig;

import java.util.List;

/** Answers in this instance's memory, kept for a TTL under a cap in bytes; the least useful go first past it. */
public final class InMemoryAnswers implements AnswerStore {
    private final Cache<String, List<ChatEvent>> answers;

    public InMemoryAnswers(CacheConfig config) {
        this(config, Ticker.systemTicker());
    }

    /** With the clock given: tests move time forward to expire entries. */
    InMemoryAnswers(CacheConfig config, Ticker ticker) {
        answers = Caffeine.newBuilder()
                .expireAfterWrite(config.ttl())
                .maximumWeight(config.maxBytes())
                .weigher(InMemoryAnswers::bytes)
                .executor(Runnable::run) // evicts on the storing thread: the cap holds once put returns
                .ticker(ticker)
                .build();
    }

    @Override
    public List<ChatEvent> get(String key) {
        return answers.getIfPresent(key);
    }

    @Override
    public void put(String key, List<ChatEvent> events) {
        answers.put(key, events);
    }

    @Override
    public void forget(String model) {
        answers.asMap().keySet().removeIf(key -> key.startsWith(model + "\n"));
    }

    /**
     * Roughly what a stored answer takes in memory: its text and tool-call text as UTF-16 plus a fixed
     * cost per event and per logprob entry. Close enough for a cap; an answer bigger than the whole cap is not kept.
     */
    static int bytes(String key, List<ChatEvent> events) {
        long bytes = 64 + 2L * key.length();
        for (ChatEvent e : events) {
            bytes += 48;
            switch (e) {
                case ChatEvent.Delta d -> {
                    bytes += 2L * d.text().length();
                    if (d.logprobs() != null) {
                        for (ChatEvent.TokenLogprob t : d.logprobs()) {
                            bytes += 48 + 2L * t.token().length()
                                    + t.top().stream().mapToLong(top -> 40 + 2L * top.token().length()).sum();
                        }
                    }
                }
                case ChatEvent.ToolCallStart t -> bytes += 2L * (length(t.id()) + length(t.name()));
                case ChatEvent.ToolCallDelta t -> bytes += 2L * length(t.arguments());
                case ChatEvent.Raw r -> bytes += 4L * r.data().toString().length(); // the tree costs more than its text
                default -> { } // fixed-size events
            }
        }
        return (int) Math.min(bytes, Integer.MAX_VALUE);
    }

    private static int length(String s) {
        return s == null ? 0 : s.length();
    }
}
