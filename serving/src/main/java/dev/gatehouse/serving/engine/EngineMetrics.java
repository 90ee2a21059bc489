package dev.gatehouse.serving.engine;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One model engine's meters (tag {@code model}); the gateway's Prometheus registry exposes them on /metrics.
 * Queue time and time to first token are recorded when they happen, so cancelled and failed requests
 * count too (those that got that far); the request duration only for requests that finish.
 */
final class EngineMetrics {
    private final Timer queue;
    private final Timer timeToFirstToken;
    private final Timer interToken;
    private final Timer endToEnd;
    private final DistributionSummary batchSize;
    private final Counter promptTokens;
    private final Counter generatedTokens;
    private final Counter prefixQueryTokens;
    private final Counter prefixHitTokens;
    private final Counter preemptions;

    EngineMetrics(MeterRegistry registry, String model, Supplier<Capacity> capacity) {
        queue = timer(registry, "gatehouse.engine.queue.time", "Submit until prefill starts", model);
        timeToFirstToken = timer(registry, "gatehouse.engine.time.to.first.token", "Submit until the first token", model);
        interToken = timer(registry, "gatehouse.engine.inter.token.latency", "Gap between consecutive tokens", model);
        endToEnd = timer(registry, "gatehouse.engine.request.duration", "Submit until finished", model);
        batchSize = DistributionSummary.builder("gatehouse.engine.batch.size").description("Sequences per decode step")
                .tag("model", model).publishPercentileHistogram().register(registry);
        promptTokens = Counter.builder("gatehouse.engine.prompt.tokens").tag("model", model).register(registry);
        generatedTokens = Counter.builder("gatehouse.engine.generated.tokens").tag("model", model).register(registry);
        prefixQueryTokens = Counter.builder("gatehouse.engine.prefix.cache.query.tokens")
                .description("Prompt tokens looked up in the prefix cache").tag("model", model).register(registry);
        prefixHitTokens = Counter.builder("gatehouse.engine.prefix.cache.hit.tokens")
                .description("Prompt tokens whose keys and values came from the prefix cache").tag("model", model).register(registry);
        Gauge.builder("gatehouse.engine.prefix.cache.hit.ratio", this, m -> hitRatio(m.prefixHitTokens.count(), m.prefixQueryTokens.count()))
                .description("Share of prompt tokens served from the prefix cache since start").tag("model", model).strongReference(true)
                .register(registry);
        Gauge.builder("gatehouse.engine.prefix.cache.blocks", capacity, c -> c.get().cachedBlocks())
                .description("KV blocks holding a reusable prefix").tag("model", model).strongReference(true).register(registry);
        preemptions = Counter.builder("gatehouse.engine.preemptions")
                .description("Sequences that gave their KV blocks back to let others decode, to recompute later")
                .tag("model", model).register(registry);
        Gauge.builder("gatehouse.engine.running", capacity, c -> c.get().running()).tag("model", model).strongReference(true).register(registry);
        Gauge.builder("gatehouse.engine.waiting", capacity, c -> c.get().waiting()).tag("model", model).strongReference(true).register(registry);
        Gauge.builder("gatehouse.engine.kv.free.slots", capacity, c -> c.get().freeSlots()).tag("model", model).strongReference(true).register(registry);
        Gauge.builder("gatehouse.engine.kv.used.bytes", capacity, c -> c.get().kvBytesUsed())
                .description("KV memory held by running sequences").tag("model", model).strongReference(true).register(registry);
        Gauge.builder("gatehouse.engine.kv.total.bytes", capacity, c -> c.get().kvBytesTotal()).tag("model", model).strongReference(true).register(registry);
        Gauge.builder("gatehouse.engine.estimated.wait.seconds", capacity, c -> c.get().estimatedWaitMillis() / 1000.0)
                .tag("model", model).strongReference(true).register(registry);
    }

    private static Timer timer(MeterRegistry registry, String name, String description, String model) {
        return Timer.builder(name).description(description).tag("model", model).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(5)).register(registry);
    }

    void step(int decodeBatch) {
        if (decodeBatch > 0) {
            batchSize.record(decodeBatch);
        }
    }

    void token(long gapNanos) {
        generatedTokens.increment();
        if (gapNanos > 0) {
            interToken.record(gapNanos, TimeUnit.NANOSECONDS);
        }
    }

    /** A request left the queue for a slot. */
    void queued(long queueNanos) {
        queue.record(queueNanos, TimeUnit.NANOSECONDS);
    }

    /** A request's first token was sampled. */
    void firstToken(long sinceSubmitNanos) {
        timeToFirstToken.record(sinceSubmitNanos, TimeUnit.NANOSECONDS);
    }

    private static double hitRatio(double hits, double queries) {
        return queries == 0 ? 0 : hits / queries;
    }

    /** A new request's prompt was looked up in the prefix cache; {@code hitTokens} of it were there. */
    void prefixLookup(int promptTokens, int hitTokens) {
        prefixQueryTokens.increment(promptTokens);
        prefixHitTokens.increment(hitTokens);
    }

    void preempted() {
        preemptions.increment();
    }

    void finished(int prompt, long endToEndNanos) {
        promptTokens.increment(prompt);
        endToEnd.record(endToEndNanos, TimeUnit.NANOSECONDS);
    }
}
