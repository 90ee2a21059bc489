package dev.gatehouse.gateway.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.CacheConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Exact-match response cache, in memory: the events of a complete answer to a deterministic request
 * (see {@link CacheKey}), kept for a TTL under a cap in bytes, replayed for the next identical
 * request of the same caller (of anyone with {@code shared}). Storing events rather than encoded
 * bodies lets one answer serve a JSON and a streaming request alike, each with its own id.
 * Concurrent identical misses each generate; the last one stored wins.
 */
public final class ResponseCache {
    /** What a request got from the cache; also the {@code x-gatehouse-cache} header and the metric's tag. */
    public enum Result { HIT, MISS, BYPASS }

    private final Cache<String, List<ChatEvent>> answers; // null: the cache is off
    private final boolean shared;
    private final Map<Result, Counter> requests = new EnumMap<>(Result.class);

    private ResponseCache(Cache<String, List<ChatEvent>> answers, boolean shared, MeterRegistry registry) {
        this.answers = answers;
        this.shared = shared;
        if (registry != null) {
            for (Result r : Result.values()) {
                requests.put(r, Counter.builder("gatehouse.cache.requests")
                        .description("Completion requests by what the response cache did for them")
                        .tag("result", r.name().toLowerCase(Locale.ROOT))
                        .register(registry));
            }
        }
    }

    public static ResponseCache off() {
        return new ResponseCache(null, false, null);
    }

    public static ResponseCache of(CacheConfig config, MeterRegistry registry) {
        return config.enabled() ? of(config, registry, Ticker.systemTicker()) : off();
    }

    /** With the clock given: tests move time forward to expire entries. */
    static ResponseCache of(CacheConfig config, MeterRegistry registry, Ticker ticker) {
        return new ResponseCache(Caffeine.newBuilder()
                .expireAfterWrite(config.ttl())
                .maximumWeight(config.maxBytes())
                .weigher(ResponseCache::bytes)
                .executor(Runnable::run) // evicts on the storing thread: the cap holds once put returns
                .ticker(ticker)
                .build(), config.shared(), registry);
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

    /**
     * Looks the request up as the client's Cache-Control allows, and counts what happened. {@code caller}
     * (a key's id, "jwt:" + user, or null for the master key and open access) scopes the lookup unless
     * the cache is shared; {@code rule} (the routing rule that picked the targets, {@code ROUTE:RULE})
     * always does, so an answer from one rule's targets (a region's, a tenant's) is never another's.
     */
    public Lookup lookup(ChatRequest request, CacheControl control, String caller, String rule) {
        if (answers == null) {
            return new Lookup(null, null, null, request.choices());
        }
        String scope = (shared ? "" : caller == null ? "-" : caller) + "\n" + rule;
        Lookup lookup;
        if (!CacheKey.deterministic(request) || control == CacheControl.NO_STORE) {
            lookup = new Lookup(Result.BYPASS, null, null, request.choices());
        } else if (control == CacheControl.NO_CACHE) {
            lookup = new Lookup(Result.BYPASS, CacheKey.of(request, scope), null, request.choices()); // a fresh answer, kept
        } else {
            String key = CacheKey.of(request, scope);
            List<ChatEvent> stored = answers.getIfPresent(key);
            lookup = new Lookup(stored != null ? Result.HIT : Result.MISS, key, stored, request.choices());
        }
        Counter counter = requests.get(lookup.result());
        if (counter != null) {
            counter.increment();
        }
        return lookup;
    }

    /** Drops every answer of {@code model}: it was unloaded, reloaded or deleted, so they may no longer be its answers. */
    public void forget(String model) {
        if (answers != null) {
            answers.asMap().keySet().removeIf(key -> key.startsWith(model + "\n"));
        }
    }

    /** The cache's answer for one request: a stored answer to replay, or what to do with a fresh one. */
    public final class Lookup {
        private final Result result;
        private final String storeKey;
        private final List<ChatEvent> stored;
        private final int choices;

        private Lookup(Result result, String storeKey, List<ChatEvent> stored, int choices) {
            this.result = result;
            this.storeKey = storeKey;
            this.stored = stored;
            this.choices = choices;
        }

        /** Null when the cache is off (then no header is sent). */
        public Result result() {
            return result;
        }

        public boolean hit() {
            return stored != null;
        }

        /** The stored answer as a stream, to encode like a backend's; only on a hit. */
        public ChatStream replay() {
            if (stored == null) {
                throw new IllegalStateException("not a cache hit");
            }
            return new ReplayStream(stored);
        }

        /** The backend's stream, storing its events once it ends cleanly, when this request may be stored. */
        public ChatStream record(ChatStream fresh) {
            if (storeKey == null) {
                return fresh;
            }
            return new RecordingStream(fresh, choices, events -> answers.put(storeKey, events));
        }
    }
}
