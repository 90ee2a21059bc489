package dev.gatehouse.gateway.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.cache.ResponseCache.Result;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.CacheConfig;
import dev.gatehouse.gateway.chat.Message;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ResponseCacheTest {
    private static final List<ChatEvent> ANSWER = List.of(
            new ChatEvent.Delta(0, "Hello", null),
            new ChatEvent.Delta(0, " there", null),
            new ChatEvent.Finish(0, FinishReason.STOP),
            new ChatEvent.Usage(5, 2));

    private final AtomicLong nanos = new AtomicLong();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ResponseCache cache = inMemory(new CacheConfig(true, Duration.ofSeconds(60), 1L << 20, false));

    /** A cache in memory on the test's clock. */
    private ResponseCache inMemory(CacheConfig config) {
        return ResponseCache.of(config, registry, new InMemoryAnswers(config, nanos::get));
    }

    private static ChatRequest chat(String content, Integer maxTokens, float temperature, Long seed) {
        return new ChatRequest("m", List.of(new Message("user", content)), null, maxTokens,
                new ChatRequest.Sampling(temperature, 1f, 0, 0f, 1f, 0f, 0f, seed, List.of(), false, 0),
                1, false, false, false, null);
    }

    private static ChatRequest greedy(String content) {
        return chat(content, 16, 0f, null);
    }

    /** A backend's stream: the given events, then optionally a failure instead of the end. */
    private static final class FakeBackend implements ChatStream {
        private final List<ChatEvent> events;
        private final RuntimeException failure;
        private int next;
        boolean closed;

        FakeBackend(List<ChatEvent> events, RuntimeException failure) {
            this.events = events;
            this.failure = failure;
        }

        FakeBackend(List<ChatEvent> events) {
            this(events, null);
        }

        @Override
        public ChatEvent next() {
            if (next < events.size()) {
                return events.get(next++);
            }
            if (failure != null) {
                throw failure;
            }
            return null;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static List<ChatEvent> drain(ChatStream stream) throws InterruptedException {
        List<ChatEvent> out = new ArrayList<>();
        try (stream) {
            for (ChatEvent e; (e = stream.next()) != null; ) {
                out.add(e);
            }
        }
        return out;
    }

    /** Answers the request through the cache as OpenAiApi does: replay on a hit, record the backend otherwise. */
    private Result answer(ChatRequest request, CacheControl control, ChatStream backend) throws InterruptedException {
        ResponseCache.Lookup lookup = cache.lookup(request, control, "key_a", "m:default");
        assertEquals(ANSWER, drain(lookup.hit() ? lookup.replay() : lookup.record(backend)));
        return lookup.result();
    }

    private Result answer(ChatRequest request) throws InterruptedException {
        return answer(request, CacheControl.USE, new FakeBackend(ANSWER));
    }

    private double count(String result) {
        return registry.get("gatehouse.cache.requests").tag("result", result).counter().count();
    }

    @Test
    void aSecondIdenticalGreedyRequestIsReplayedFromTheCache() throws Exception {
        assertEquals(Result.MISS, answer(greedy("hi")));
        FakeBackend unused = new FakeBackend(List.of());
        assertEquals(Result.HIT, answer(greedy("hi"), CacheControl.USE, unused));
        assertEquals(1, count("miss"));
        assertEquals(1, count("hit"));
    }

    @Test
    void forgettingAModelDropsItsAnswersOnly() throws Exception {
        ChatRequest other = new ChatRequest("m2", greedy("hi").messages(), null, 16, greedy("hi").sampling(), 1, false,
                false, false, null);
        assertEquals(Result.MISS, answer(greedy("hi")));
        assertEquals(Result.MISS, answer(other));
        cache.forget("m"); // unloaded or reloaded: its cached answers may not be its answers any more
        assertEquals(Result.MISS, answer(greedy("hi")));
        assertEquals(Result.HIT, answer(other));
    }

    @Test
    void onlyDeterministicRequestsAreCached() throws Exception {
        ChatRequest sampled = chat("hi", 16, 0.8f, null);
        assertEquals(Result.BYPASS, answer(sampled));
        assertEquals(Result.BYPASS, answer(sampled), "a sampled answer is never stored");
        ChatRequest seeded = chat("hi", 16, 0.8f, 42L);
        assertEquals(Result.MISS, answer(seeded));
        assertEquals(Result.HIT, answer(seeded));
        assertEquals(Result.MISS, answer(chat("hi", 16, 0.8f, 43L)), "another seed, another answer");
        assertEquals(2, count("bypass"));
    }

    @Test
    void theKeyIgnoresHowTheAnswerTravelsAndWhoAsked() {
        ChatRequest plain = greedy("hi");
        ChatRequest streamed = new ChatRequest("m", plain.messages(), null, 16, plain.sampling(), 1, false, true, true,
                "alice");
        assertEquals(CacheKey.of(plain, "key_a"), CacheKey.of(streamed, "key_a"));
        assertTrue(CacheKey.of(plain, "key_a").matches("m\n[0-9a-f]{64}"), "the model, then a SHA-256 in hex");
        assertFalse(CacheKey.canonicalJson(streamed).contains("alice"));
    }

    @Test
    void everyFieldThatChangesTheAnswerChangesTheKey() {
        ChatRequest base = greedy("hi");
        ChatRequest.Sampling s = base.sampling();
        List<ChatRequest> variants = List.of(
                base.withModel("other"),
                greedy("hello"),
                chat("hi", 17, 0f, null),
                chat("hi", 16, 0f, 1L),
                new ChatRequest("m", null, List.of("hi"), 16, s, 1, false, false, false, null),
                new ChatRequest("m", base.messages(), null, 16, s, 2, false, false, false, null),
                new ChatRequest("m", base.messages(), null, 16, new ChatRequest.Sampling(0f, 0.5f, 0, 0f, 1f, 0f, 0f, null,
                        List.of(), false, 0), 1, false, false, false, null),
                new ChatRequest("m", base.messages(), null, 16, new ChatRequest.Sampling(0f, 1f, 0, 0f, 1f, 0f, 0f, null,
                        List.of("\n"), false, 0), 1, false, false, false, null),
                new ChatRequest("m", base.messages(), null, 16, new ChatRequest.Sampling(0f, 1f, 0, 0f, 1f, 0.5f, 0f, null,
                        List.of(), false, 0), 1, false, false, false, null),
                new ChatRequest("m", base.messages(), null, 16, new ChatRequest.Sampling(0f, 1f, 0, 0f, 1f, 0f, 0f, null,
                        List.of(), true, 2), 1, false, false, false, null));
        for (ChatRequest v : variants) {
            assertNotEquals(CacheKey.of(base, "key_a"), CacheKey.of(v, "key_a"), CacheKey.canonicalJson(v));
        }
    }

    @Test
    void aDifferentMaxTokensIsAMiss() throws Exception {
        assertEquals(Result.MISS, answer(chat("hi", 16, 0f, null)));
        assertEquals(Result.MISS, answer(chat("hi", 8, 0f, null)));
        assertEquals(Result.HIT, answer(chat("hi", 8, 0f, null)));
    }

    @Test
    void noCacheSkipsTheLookupButStoresTheFreshAnswer() throws Exception {
        assertEquals(Result.MISS, answer(greedy("hi")));
        FakeBackend fresh = new FakeBackend(ANSWER);
        assertEquals(Result.BYPASS, answer(greedy("hi"), CacheControl.NO_CACHE, fresh));
        assertTrue(fresh.closed, "the backend answered");
        assertEquals(Result.BYPASS, answer(greedy("new"), CacheControl.NO_CACHE, new FakeBackend(ANSWER)));
        assertEquals(Result.HIT, answer(greedy("new")));
    }

    @Test
    void noStoreNeitherReadsNorWrites() throws Exception {
        assertEquals(Result.BYPASS, answer(greedy("secret"), CacheControl.NO_STORE, new FakeBackend(ANSWER)));
        assertEquals(Result.MISS, answer(greedy("secret")));
        assertEquals(Result.BYPASS, answer(greedy("secret"), CacheControl.NO_STORE, new FakeBackend(ANSWER)));
    }

    @Test
    void failedOrUnfinishedAnswersAreNotStored() throws Exception {
        ChatRequest request = greedy("hi");
        ResponseCache.Lookup failing = cache.lookup(request, CacheControl.USE, "key_a", "m:default");
        ChatStream cut = failing.record(new FakeBackend(ANSWER.subList(0, 2), new ApiException(502, "server_error",
                "upstream_stream_ended", null, "ended early", null)));
        assertThrows(ApiException.class, () -> drain(cut));

        ResponseCache.Lookup abandoned = cache.lookup(request, CacheControl.USE, "key_a", "m:default");
        FakeBackend backend = new FakeBackend(ANSWER);
        try (ChatStream s = abandoned.record(backend)) {
            s.next(); // the client went away after the first token
        }
        assertTrue(backend.closed, "closing the recorder cancels the generation");

        ResponseCache.Lookup unfinished = cache.lookup(request, CacheControl.USE, "key_a", "m:default");
        drain(unfinished.record(new FakeBackend(List.of(new ChatEvent.Delta(0, "Hel", null)))));

        assertEquals(Result.MISS, cache.lookup(request, CacheControl.USE, "key_a", "m:default").result());
    }

    @Test
    void everyChoiceMustFinishBeforeAnAnswerIsStored() throws Exception {
        ChatRequest two = new ChatRequest("m", List.of(new Message("user", "hi")), null, 16,
                greedy("hi").sampling(), 2, false, false, false, null);
        drain(cache.lookup(two, CacheControl.USE, "key_a", "m:default").record(new FakeBackend(ANSWER)));
        assertEquals(Result.MISS, cache.lookup(two, CacheControl.USE, "key_a", "m:default").result(), "choice 1 never finished");
    }

    @Test
    void entriesExpireAfterTheirTtl() throws Exception {
        assertEquals(Result.MISS, answer(greedy("hi")));
        nanos.addAndGet(Duration.ofSeconds(59).toNanos());
        assertEquals(Result.HIT, answer(greedy("hi")));
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        assertEquals(Result.MISS, answer(greedy("hi")));
    }

    @Test
    void anotherCallersIdenticalRequestIsAMissUnlessTheCacheIsShared() throws Exception {
        assertEquals(Result.MISS, answer(greedy("hi")));
        ResponseCache.Lookup other = cache.lookup(greedy("hi"), CacheControl.USE, "key_b", "m:default");
        assertEquals(Result.MISS, other.result(), "key_b must not learn what key_a asked");
        assertEquals(Result.MISS, cache.lookup(greedy("hi"), CacheControl.USE, "jwt:alice", "m:default").result());
        assertEquals(Result.MISS, cache.lookup(greedy("hi"), CacheControl.USE, null, "m:default").result());
        assertEquals(Result.HIT, answer(greedy("hi")), "the same caller still gets its answer");

        ResponseCache shared = inMemory(new CacheConfig(true, Duration.ofSeconds(60), 1L << 20, true));
        drain(shared.lookup(greedy("hi"), CacheControl.USE, "key_a", "m:default").record(new FakeBackend(ANSWER)));
        assertEquals(Result.HIT, shared.lookup(greedy("hi"), CacheControl.USE, "key_b", "m:default").result());
        assertEquals(Result.MISS, shared.lookup(greedy("hi"), CacheControl.USE, "key_b", "m:eu").result(),
                "another routing rule's targets (another region's) never share an answer");
    }

    @Test
    void theCapIsInBytesNotEntries() throws Exception {
        ResponseCache small = inMemory(new CacheConfig(true, Duration.ofSeconds(60), 100_000, false));
        List<ChatEvent> big = List.of(new ChatEvent.Delta(0, "x".repeat(20_000), null), new ChatEvent.Finish(0, FinishReason.STOP));
        for (int i = 0; i < 5; i++) {
            drain(small.lookup(greedy("big " + i), CacheControl.USE, "k", "m:default").record(new FakeBackend(big)));
        }
        long kept = java.util.stream.IntStream.range(0, 5)
                .filter(i -> small.lookup(greedy("big " + i), CacheControl.USE, "k", "m:default").hit()).count();
        assertTrue(kept >= 1 && kept <= 2, "five 40 kB answers under a 100 kB cap: " + kept + " kept");

        ResponseCache roomy = inMemory(new CacheConfig(true, Duration.ofSeconds(60), 1L << 20, false));
        for (int i = 0; i < 2000; i++) { // small answers (~400 bytes each): far more than an entry count would allow
            drain(roomy.lookup(greedy("small " + i), CacheControl.USE, "k", "m:default").record(new FakeBackend(ANSWER)));
        }
        long kept2000 = java.util.stream.IntStream.range(0, 2000)
                .filter(i -> roomy.lookup(greedy("small " + i), CacheControl.USE, "k", "m:default").hit()).count();
        assertEquals(2000, kept2000, "2000 answers of ~400 bytes fit in 1 MiB");
    }

    @Test
    void anOffCacheSaysNothingAndPassesTheBackendThrough() {
        ResponseCache off = ResponseCache.of(CacheConfig.OFF, registry);
        ResponseCache.Lookup lookup = off.lookup(greedy("hi"), CacheControl.USE, "key_a", "m:default");
        assertNull(lookup.result());
        assertFalse(lookup.hit());
        FakeBackend backend = new FakeBackend(ANSWER);
        assertSame(backend, lookup.record(backend));
    }

    @Test
    void cacheControlDirectives() {
        assertEquals(CacheControl.USE, CacheControl.of(List.of()));
        assertEquals(CacheControl.USE, CacheControl.of(List.of("max-age=60")));
        assertEquals(CacheControl.NO_CACHE, CacheControl.of(List.of("No-Cache")));
        assertEquals(CacheControl.NO_CACHE, CacheControl.of(List.of("max-age=0, no-cache")));
        assertEquals(CacheControl.NO_STORE, CacheControl.of(List.of("no-cache", "no-store")));
    }
}
