package dev.gatehouse.gateway.cache;

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
 * Exact-match response cache: the events of a complete answer to a deterministic request
 * (see {@link CacheKey}), kept for a TTL ({@link AnswerStore}: in memory under a cap in bytes, or in
 * Redis shared by several instances), replayed for the next identical
 * request of the same caller (of anyone with {@code shared}). Storing events rather than encoded
 * bodies lets one answer serve a JSON and a streaming request alike, each with its own id.
 * Concurrent identical misses each generate; the last one stored wins.
 */
public final class ResponseCache {
    /** What a request got from the cache; also the {@code x-gatehouse-cache} header and the metric's tag. */
    public enum Result { HIT, MISS, BYPASS }

    private final AnswerStore answers; // null: the cache is off
    private final boolean shared;
    private final Map<Result, Counter> requests = new EnumMap<>(Result.class);

    private ResponseCache(AnswerStore answers, boolean shared, MeterRegistry registry) {
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

    /** In this instance's memory. */
    public static ResponseCache of(CacheConfig config, MeterRegistry registry) {
        return config.enabled() ? of(config, registry, new InMemoryAnswers(config)) : off();
    }

    /** Answers kept in {@code answers} (this instance's memory, or Redis shared by several). */
    public static ResponseCache of(CacheConfig config, MeterRegistry registry, AnswerStore answers) {
        return config.enabled() ? new ResponseCache(answers, config.shared(), registry) : off();
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
            List<ChatEvent> stored = answers.get(key);
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
            answers.forget(model);
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
