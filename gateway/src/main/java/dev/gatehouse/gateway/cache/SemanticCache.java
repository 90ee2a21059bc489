package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Reuses an answer for a request whose last user message means nearly the same as an earlier one's:
 * everything else (the model, system prompt, earlier turns, parameters, the caller unless shared) must
 * be identical, and the cosine similarity of the two messages' embeddings (a local embedding model)
 * at least the configured threshold. Only for the configured models, only chat requests whose last
 * message is the user's text, and by default only without tools and without sampling randomness.
 */
public final class SemanticCache {
    /** Turns a user message into its embedding; empty when the embedding model is not served now. */
    @FunctionalInterface
    public interface Embedder {
        Optional<float[]> embed(String model, String text) throws InterruptedException;
    }

    private final SemanticCacheConfig config;
    private final Embedder embedder;
    private final SemanticAnswers answers;
    private final Counter hits;
    private final Counter misses;
    private final Counter bypasses;
    private final DistributionSummary similarity;
    private final Timer embedding;

    private SemanticCache(SemanticCacheConfig config, Embedder embedder, SemanticAnswers answers, MeterRegistry registry) {
        this.config = config;
        this.embedder = embedder;
        this.answers = answers;
        this.hits = lookups(registry, "hit");
        this.misses = lookups(registry, "miss");
        this.bypasses = lookups(registry, "bypass");
        this.similarity = DistributionSummary.builder("gatehouse.semantic.cache.similarity")
                .description("Similarity of the nearest stored message at each semantic cache lookup")
                .serviceLevelObjectives(0.5, 0.8, 0.9, 0.95, 0.98, 0.99).register(registry);
        this.embedding = Timer.builder("gatehouse.semantic.cache.embedding")
                .description("Time spent embedding messages for the semantic cache").register(registry);
    }

    private static Counter lookups(MeterRegistry registry, String result) {
        return Counter.builder("gatehouse.semantic.cache.lookups").description("Semantic cache lookups by result")
                .tag("result", result).register(registry);
    }

    /** Null when {@code config} is off: nothing to do for any request. Answers are kept in {@code answers}. */
    public static SemanticCache of(SemanticCacheConfig config, Embedder embedder, SemanticAnswers answers, MeterRegistry registry) {
        return config.enabled() ? new SemanticCache(config, embedder, answers, registry) : null;
    }

    /** A lookup's outcome: a stored answer with its similarity, or how to store a fresh one. */
    public final class Lookup {
        private final List<ChatEvent> stored;
        private final float similarity;
        private final long context;
        private final float[] vector;

        private Lookup(List<ChatEvent> stored, float similarity, long context, float[] vector) {
            this.stored = stored;
            this.similarity = similarity;
            this.context = context;
            this.vector = vector;
        }

        public boolean hit() {
            return stored != null;
        }

        /** The stored answer's similarity, rounded for the response header. */
        public String similarity() {
            return String.format(Locale.ROOT, "%.4f", similarity);
        }

        public ChatStream replay() {
            return new ReplayStream(stored);
        }

        /** The fresh answer, stored once it ends cleanly when the request was one to cache. */
        public ChatStream record(ChatStream fresh, int choices) {
            return vector == null ? fresh : new RecordingStream(fresh, choices, events -> answers.add(vector, context, events));
        }
    }

    /**
     * Null when the request is not one for the semantic cache (counted as a bypass when the model is).
     * {@code caller} scopes the answers unless the cache is shared; {@code rule} (the routing rule that
     * picked the targets, {@code ROUTE:RULE}) always does, as in the exact cache.
     */
    public Lookup lookup(ChatRequest request, String caller, String rule) throws InterruptedException {
        if (!config.models().contains(request.model())) {
            return null;
        }
        String text = lastUserText(request);
        if (text == null || request.n() != 1 || (!config.withTools() && !request.tools().isEmpty())
                || (!config.sampled() && !CacheKey.deterministic(request))) {
            bypasses.increment();
            return null;
        }
        long started = System.nanoTime();
        Optional<float[]> embedded = embedder.embed(config.embeddingModel(), text);
        embedding.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        float[] vector = embedded.map(VectorIndex::unit).orElse(null);
        if (vector == null) {
            bypasses.increment();
            return null;
        }
        List<Message> earlier = request.messages().subList(0, request.messages().size() - 1);
        // the embedding model is part of the context: vectors of two models never compare (a store outlives a config)
        long context = context(request.withInput(earlier, request.prompts()),
                (config.shared() ? "" : caller == null ? "-" : caller) + "\n" + rule + "\n" + config.embeddingModel());
        SemanticAnswers.Nearest nearest = answers.nearest(vector, context, config.threshold());
        if (nearest != null) {
            similarity.record(nearest.similarity());
            if (nearest.answer() != null) {
                hits.increment();
                return new Lookup(nearest.answer(), nearest.similarity(), context, null);
            }
        }
        misses.increment();
        return new Lookup(null, 0, context, vector);
    }

    /** 64 bits of the exact-cache key of everything but the last message: only answers of the same context compare. */
    private static long context(ChatRequest earlier, String scope) {
        String key = CacheKey.of(earlier, scope);
        int hash = key.indexOf('\n') + 1;
        return Long.parseUnsignedLong(key.substring(hash, hash + 16), 16);
    }

    /** The text of the last message when it is the user's and only text; null otherwise. */
    private static String lastUserText(ChatRequest request) {
        if (request.messages() == null || request.messages().isEmpty()) {
            return null;
        }
        Message last = request.messages().getLast();
        if (!Message.USER.equals(last.role()) || last.content() == null
                || !last.content().stream().allMatch(p -> p instanceof ContentPart.Text)) {
            return null;
        }
        String text = last.text();
        return text == null || text.isBlank() ? null : text;
    }
}
