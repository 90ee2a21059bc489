package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The semantic cache's rules, with an embedder whose vectors the test chooses. */
class SemanticCacheTest {
    /** Messages to vectors: the first two point almost the same way (cosine ~0.995), the third elsewhere. */
    private static final Map<String, float[]> VECTORS = Map.of(
            "capital of France?", new float[] {1, 0.1f, 0},
            "France's capital city?", new float[] {1, 0, 0.1f},
            "how to bake bread?", new float[] {0, 1, 0});
    private final AtomicLong now = new AtomicLong();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private SemanticCache cache(SemanticCacheConfig config) {
        return SemanticCache.of(config, (model, text) -> Optional.ofNullable(VECTORS.get(text)),
                new InMemorySemanticAnswers(config, now::get), registry);
    }

    private static SemanticCacheConfig config(int maxEntries, boolean shared) {
        return new SemanticCacheConfig(List.of("m"), "embedder", 0.95, Duration.ofMinutes(1), maxEntries, shared, false, false);
    }

    private static ChatRequest ask(String text, String system, float temperature) {
        List<Message> messages = new ArrayList<>();
        if (system != null) {
            messages.add(new Message(Message.SYSTEM, system));
        }
        messages.add(new Message(Message.USER, text));
        return new ChatRequest("m", messages, null, 16, new ChatRequest.Sampling(temperature, 1, 0, 0, 1, 0, 0, null,
                List.of(), false, 0), 1, false, false, false, null);
    }

    private static ChatRequest ask(String text) {
        return ask(text, null, 0);
    }

    /** Answers {@code text} through the lookup's recorder, as a backend's stream read to its end. */
    private static void answer(SemanticCache.Lookup lookup, String text) throws InterruptedException {
        Iterator<ChatEvent> events = List.<ChatEvent>of(new ChatEvent.Delta(0, text, null),
                new ChatEvent.Finish(0, FinishReason.STOP)).iterator();
        ChatStream backend = new ChatStream() {
            @Override
            public ChatEvent next() {
                return events.hasNext() ? events.next() : null;
            }

            @Override
            public void close() {}
        };
        ChatStream recording = lookup.record(backend, 1);
        while (recording.next() != null) {
            // read to the end, as a client does
        }
    }

    private static String replayed(SemanticCache.Lookup lookup) throws InterruptedException {
        ChatStream s = lookup.replay();
        StringBuilder text = new StringBuilder();
        for (ChatEvent e = s.next(); e != null; e = s.next()) {
            if (e instanceof ChatEvent.Delta d) {
                text.append(d.text());
            }
        }
        return text.toString();
    }

    @Test
    void aParaphraseGetsTheStoredAnswerAndAnUnrelatedQuestionDoesNot() throws Exception {
        SemanticCache cache = cache(config(100, false));
        SemanticCache.Lookup first = cache.lookup(ask("capital of France?"), "key-1", "m:default");
        assertFalse(first.hit());
        answer(first, "Paris.");

        SemanticCache.Lookup paraphrase = cache.lookup(ask("France's capital city?"), "key-1", "m:default");
        SemanticCache.Lookup unrelated = cache.lookup(ask("how to bake bread?"), "key-1", "m:default");

        assertTrue(paraphrase.hit());
        assertEquals("Paris.", replayed(paraphrase));
        assertTrue(Double.parseDouble(paraphrase.similarity()) > 0.98, paraphrase.similarity());
        assertFalse(unrelated.hit());
        assertEquals(1.0, registry.get("gatehouse.semantic.cache.lookups").tag("result", "hit").counter().count());
    }

    @Test
    void onlyTheSameCallerAndTheSameConversationShareAnAnswer() throws Exception {
        SemanticCache perCaller = cache(config(100, false));
        answer(perCaller.lookup(ask("capital of France?", "Be brief.", 0), "key-1", "m:default"), "Paris.");

        assertFalse(perCaller.lookup(ask("capital of France?", "Be brief.", 0), "key-2", "m:default").hit(), "another key");
        assertFalse(perCaller.lookup(ask("capital of France?", "Be verbose.", 0), "key-1", "m:default").hit(), "another system prompt");
        assertTrue(perCaller.lookup(ask("capital of France?", "Be brief.", 0), "key-1", "m:default").hit());
        assertFalse(perCaller.lookup(ask("capital of France?", "Be brief.", 0), "key-1", "m:eu").hit(), "another routing rule");

        SemanticCache shared = cache(config(100, true));
        answer(shared.lookup(ask("capital of France?"), "key-1", "m:default"), "Paris.");
        assertTrue(shared.lookup(ask("France's capital city?"), "key-2", "m:default").hit(), "shared: any caller");
    }

    @Test
    void sampledRequestsToolsAndOtherModelsBypassIt() throws Exception {
        SemanticCache cache = cache(config(100, false));
        ChatRequest withTools = new ChatRequest("m", List.of(new Message(Message.USER, "capital of France?")), null, 16,
                ask("x").sampling(), 1, false, false, false, null,
                List.of(new Tool("lookup", "finds things", null, null)), null, null, null, Map.of());

        assertNull(cache.lookup(ask("capital of France?", null, 0.8f), "k", "m:default"), "temperature above 0 without a seed");
        assertNull(cache.lookup(withTools, "k", "m:default"));
        assertNull(cache.lookup(ask("capital of France?").withModel("other"), "k", "m:default"));
        assertEquals(2.0, registry.get("gatehouse.semantic.cache.lookups").tag("result", "bypass").counter().count());
    }

    @Test
    void answersExpireAndTheOldestMakesRoomWhenFull() throws Exception {
        SemanticCache cache = cache(config(1, false));
        answer(cache.lookup(ask("capital of France?"), "k", "m:default"), "Paris.");
        now.addAndGet(Duration.ofMinutes(2).toNanos());
        assertFalse(cache.lookup(ask("capital of France?"), "k", "m:default").hit(), "past the ttl");

        answer(cache.lookup(ask("capital of France?"), "k", "m:default"), "Paris.");
        answer(cache.lookup(ask("how to bake bread?"), "k", "m:default"), "Knead.");
        assertTrue(cache.lookup(ask("how to bake bread?"), "k", "m:default").hit());
        assertFalse(cache.lookup(ask("capital of France?"), "k", "m:default").hit(), "replaced: max-entries 1");
    }
}
