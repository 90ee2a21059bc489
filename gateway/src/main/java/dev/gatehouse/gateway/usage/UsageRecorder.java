package dev.gatehouse.gateway.usage;

import dev.gatehouse.gateway.metrics.MeterCache;
import dev.gatehouse.gateway.policy.Budgets;
import dev.gatehouse.gateway.policy.InMemoryBudgets;
import dev.gatehouse.gateway.store.KeyStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Clock;
import java.time.Duration;

/**
 * Where every finished /v1 request goes: its cost from the price list, the key's budget, the
 * spend and token meters, and the usage log.
 */
public final class UsageRecorder implements AutoCloseable {
    private final Pricing pricing;
    private final UsageLog log;
    private final Budgets budgets;
    private final MeterRegistry registry;
    private final CallerLabels labels;
    private final MeterCache<Counter> spend;
    private final MeterCache<Counter> tokens;

    /** {@code log} null records meters and budgets in memory only; JWT users are labelled with a random secret. */
    public UsageRecorder(Pricing pricing, UsageLog log, Clock clock, MeterRegistry registry) {
        this(pricing, log, clock, registry, null);
    }

    /** {@code labelSecret} ({@code metrics.label-secret}) keys the HMAC of JWT user labels; null: random per start. */
    public UsageRecorder(Pricing pricing, UsageLog log, Clock clock, MeterRegistry registry, String labelSecret) {
        this(pricing, log, inMemoryBudgets(log, clock), registry, labelSecret);
    }

    /** With the budgets given: this instance's own, or shared with others through Redis. It owns them from here. */
    public UsageRecorder(Pricing pricing, UsageLog log, Budgets budgets, MeterRegistry registry, String labelSecret) {
        this.pricing = pricing;
        this.log = log;
        this.budgets = budgets;
        this.registry = registry;
        this.labels = new CallerLabels(labelSecret);
        this.spend = new MeterCache<>(tags -> Counter.builder("gatehouse.spend.usd")
                .description("Money spent, in US dollars, from configured prices")
                .tag("key", tags.get(0)).tag("model", tags.get(1)).register(registry));
        this.tokens = new MeterCache<>(tags -> Counter.builder("gatehouse.usage.tokens")
                .description("Tokens used by key and model")
                .tag("key", tags.get(0)).tag("model", tags.get(1)).tag("type", tags.get(2)).register(registry));
        if (log != null) {
            FunctionCounter.builder("gatehouse.usage.rows.dropped", log, UsageLog::droppedRows)
                    .description("Usage rows never written: the write queue was full, or the store still failed at shutdown")
                    .register(registry);
            Gauge.builder("gatehouse.usage.queue.rows", log, UsageLog::queuedRows)
                    .description("Usage rows waiting to be written to the store").register(registry);
        }
    }

    /** Budgets counted by this instance, its spend read from {@code log} (null: in memory only). */
    public static Budgets inMemoryBudgets(UsageLog log, Clock clock) {
        return new InMemoryBudgets(log, clock, log == null ? Duration.ZERO : log.timeout());
    }

    public static UsageRecorder inMemory(MeterRegistry registry) {
        return new UsageRecorder(Pricing.free(), null, Clock.systemUTC(), registry);
    }

    public Budgets budgets() {
        return budgets;
    }

    /** The usage log; null when the server keeps none. */
    public UsageLog log() {
        return log;
    }

    public Pricing pricing() {
        return pricing;
    }

    public double cost(String backend, long promptTokens, long completionTokens) {
        return pricing.cost(backend, promptTokens, completionTokens);
    }

    /**
     * Records one request (its budget reservation settled before: see {@link Budgets}). {@code meterModel}
     * is the model label for meters: a served name or null, so clients cannot grow the metric series by
     * inventing model names.
     */
    public void record(UsageRecord r, String meterModel) {
        if (log != null) {
            log.record(r);
        }
        String keyTag = keyTag(r.keyId());
        String modelTag = meterModel == null ? "unknown" : meterModel;
        if (r.costUsd() > 0) {
            spend.get(keyTag, modelTag).increment(r.costUsd());
        }
        tokens(keyTag, modelTag, "prompt", r.promptTokens());
        tokens(keyTag, modelTag, "completion", r.completionTokens());
    }

    /** A request a key's limit refused: {@code limit} is requests, tokens, concurrency or budget. */
    public void rejected(String keyId, String limit) {
        Counter.builder("gatehouse.policy.rejections").description("Requests refused by a key's limits")
                .tag("key", keyTag(keyId)).tag("limit", limit).register(registry).increment();
    }

    /** A caller as a metric label (see {@link CallerLabels}). */
    String keyTag(String keyId) {
        return labels.of(keyId);
    }

    private void tokens(String key, String model, String type, long n) {
        if (n > 0) {
            tokens.get(key, model, type).increment(n);
        }
    }

    @Override
    public void close() {
        budgets.close();
        if (log != null) {
            log.close();
        }
    }
}
