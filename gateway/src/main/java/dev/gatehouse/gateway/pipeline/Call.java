package dev.gatehouse.gateway.pipeline;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalEmbedder;
import dev.gatehouse.gateway.cache.CacheControl;
import dev.gatehouse.gateway.cache.ResponseCache;
import dev.gatehouse.gateway.cache.SemanticCache;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Identifiers;
import dev.gatehouse.gateway.chat.OriginalRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.plugin.PluginContext;
import dev.gatehouse.gateway.plugin.Plugins;
import dev.gatehouse.gateway.policy.CostCeiling;
import dev.gatehouse.gateway.route.Plan;
import dev.gatehouse.gateway.route.RequestAttributes;
import dev.gatehouse.gateway.route.RouteFailed;
import dev.gatehouse.gateway.route.Routed;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.UsageRecord;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One request's way through the pipeline, from its caller to its usage record. A dialect calls, in
 * order: {@link #caller}, {@link #asks} once the body is read, {@link #chat} (or {@link #embeddings})
 * with the decoded request, and always {@link #end} with the status it answered, which settles what
 * the request held of its key's budget to what it cost, lets go of the caller's concurrency slot,
 * corrects the rate limiter's estimate with real usage, records the metrics and the usage log.
 */
public final class Call {
    private static final Logger LOG = Logger.getLogger(Call.class.getName());

    static final String BACKEND = "x-gatehouse-backend";
    static final String ROUTE = "x-gatehouse-route";
    static final String TARGET = "x-gatehouse-target";
    static final String FALLBACKS = "x-gatehouse-fallbacks";
    static final String CACHE = "x-gatehouse-cache";
    static final String COST = "x-gatehouse-cost-usd";
    static final String SIMILARITY = "x-gatehouse-cache-similarity";

    /** A chat request as it is served (after the plugins) and its answer, for the dialect to encode and close. */
    /**
     * What a chat call answers with. {@code local}: a local engine generates it, so a client that
     * leaves a whole answer should free its KV slots at once (see WholeAnswer).
     */
    public record Answer(ChatRequest request, ChatStream stream, boolean local) {}

    private final ChatPipeline pipeline;
    private final String route;
    private final BiConsumer<String, String> headers;
    private final Function<String, String> requestHeaders;
    private final long start = System.nanoTime();
    private ApiAuth.Caller caller;
    private String requestedModel; // as the client wrote it, for the usage log
    private String requestUser;
    private String metricModel; // the metric label: only served names
    private String backend; // who answered: local:NAME, PROVIDER:MODEL, cache
    private String rule; // which rule of which route picked the targets: ROUTE:RULE
    private List<String> fallbacks = List.of();
    private boolean cacheHit; // answered from the response cache: no backend ran, nothing to pay
    private Admission admission;
    private MeteredStream metered; // a chat answer's stream, whose usage is known once it has been read
    private long promptEstimate;
    private ChatEvent.Usage usage; // an embedding request's usage

    Call(ChatPipeline pipeline, String route, Function<String, String> requestHeaders, BiConsumer<String, String> headers) {
        this.pipeline = pipeline;
        this.route = route;
        this.requestHeaders = requestHeaders;
        this.headers = headers;
    }

    /** Who is asking, as the dialect authenticated them; only known callers are logged, so strangers cannot fill the disk. */
    public void caller(ApiAuth.Caller caller) {
        this.caller = caller;
    }

    /**
     * The model (and user field) the body names, read before the request is decoded so even a
     * malformed request is logged against it; refused (403) when the caller may not use the model.
     * A missing model is the decoder's 400.
     */
    public void asks(String model, String user) {
        Identifiers.requireShort(model, "model"); // before it is kept: a refused request is logged too
        Identifiers.requireShort(user, "user");
        this.requestedModel = model;
        this.requestUser = user;
        pipeline.requireModel(caller, model);
    }

    /**
     * Admits the request against the caller's limits, or throws their 429; {@code ceiling} is the most
     * it can cost (asked only for keys with a budget, see {@link CostCeiling}).
     */
    private void admit(long estimatedTokens, DoubleSupplier ceiling) {
        admission = Admission.admit(pipeline.auth, pipeline.usage, caller, estimatedTokens, ceiling, headers);
    }

    /**
     * Serves a decoded chat or completion request: plugins, admission, the cache, then the router.
     * The stream is the dialect's to encode and close.
     */
    public Answer chat(ChatRequest request, CacheControl cacheControl) throws InterruptedException {
        Plugins.Applied plugged = pipeline.plugins.onRequest(request, new PluginContext(route, caller.limitId(),
                caller.user() != null ? caller.user() : request.user())); // before the cache: it keys what models see
        // plugins read and rewrite the internal form only: with one at work, no target is sent the client's own body,
        // so what only that body can say is refused rather than dropped
        OriginalRequest original = request.original();
        if (!plugged.none() && original != null && original.untranslated() != null) {
            throw ApiException.unsupported(original.untranslated(), "'" + original.untranslated() + "' cannot be served "
                    + "for this model: a plugin reads its requests, and plugins read only what every model understands.");
        }
        ChatRequest served = plugged.none() ? plugged.request() : plugged.request().withoutOriginal();
        wake(served.model());
        // after the plugins: what a budget holds is priced from what the model will be sent
        admit(TokenEstimate.of(served), () -> CostCeiling.of(served, pipeline.router.destinations(served.model()),
                pipeline.usage.pricing()));
        refuseEmbeddingModel(served.model());
        refuseWhileLoading(served.model());
        promptEstimate = TokenEstimate.prompt(served);
        Plan plan = pipeline.router.plan(served, attributes(served)); // which rule's targets, in which order
        rule = plan.label();
        headers.accept(ROUTE, rule);
        ResponseCache.Lookup cached = pipeline.cache.lookup(served, cacheControl,
                caller.limitId(), rule); // each key or JWT user has its own answers unless cache.shared; each rule too
        if (cached.result() != null) {
            headers.accept(CACHE, cached.result().name());
        }
        SemanticCache.Lookup similar = cached.hit() || pipeline.semanticCache == null || cacheControl != CacheControl.USE
                ? null : pipeline.semanticCache.lookup(served, caller.limitId(), rule);
        ChatStream stream;
        if (cached.hit()) {
            cacheHit = true;
            backend = "cache";
            metered = new MeteredStream(cached.replay());
            stream = metered;
        } else if (similar != null && similar.hit()) {
            headers.accept(CACHE, "SEMANTIC-HIT");
            headers.accept(SIMILARITY, similar.similarity());
            cacheHit = true;
            backend = "cache";
            metered = new MeteredStream(similar.replay());
            stream = metered;
        } else {
            Routed routed = route(plan, served); // picks the target and falls back; see Router
            backend = routed.backend();
            fallbacks = routed.fallbacks();
            if (!fallbacks.isEmpty()) {
                headers.accept(FALLBACKS, String.join(", ", fallbacks));
            }
            metered = new MeteredStream(routed.stream());
            stream = cached.record(metered); // stored once it ends cleanly, when the request may be
            if (similar != null) {
                stream = similar.record(stream, served.choices());
            }
        }
        headers.accept(BACKEND, backend);
        headers.accept(TARGET, backend);
        try {
            stream = plugged.onResponse(stream); // the cache keeps the model's answer; plugins see every one they send
        } catch (RuntimeException e) {
            stream.close(); // a local sequence would otherwise hold its KV slot, a provider its connection
            throw e;
        }
        // only names that were served become labels, never what a client made up (the router refused those)
        metricModel = pipeline.router.metricName(served.model());
        return new Answer(served, stream, backend.startsWith("local:"));
    }

    /** What routing rules may match on: the caller as authenticated, the request's headers and fields. */
    private RequestAttributes attributes(ChatRequest request) {
        KeyStore.Key key = caller.key();
        return new RequestAttributes(requestHeaders, key == null ? null : key.id(), key == null ? null : key.spec().name(),
                caller.user(), caller.claims(), request.user(), request.passthrough().get("metadata"));
    }

    private Routed route(Plan plan, ChatRequest request) throws InterruptedException {
        try {
            return pipeline.router.open(plan, request);
        } catch (RouteFailed e) {
            fallbacks = e.fallbacks();
            headers.accept(FALLBACKS, String.join(", ", e.fallbacks()));
            throw e.error();
        }
    }

    /**
     * Opens embedding model {@code name} for one request, after admission; the lease keeps the model
     * open while the request tokenizes and waits for its batch, so an unload waits for it.
     */
    public LocalEmbedder.Lease embeddings(String name, long estimatedTokens) throws InterruptedException {
        pipeline.models.wake(name); // loads a model unloaded for idleness, before it is looked up
        if (pipeline.models.get(name).isPresent()) {
            throw ApiException.invalid("model", "The model '" + name + "' is a chat model and does not give embeddings.");
        }
        refuseWhileLoading(name);
        admit(estimatedTokens, () -> CostCeiling.ofEmbeddings(name, estimatedTokens, pipeline.usage.pricing()));
        LocalEmbedder.Lease lease = pipeline.models.leaseEmbeddings(name).orElseThrow(() -> ApiException.modelNotFound(name));
        metricModel = name;
        backend = "local:" + name;
        return lease;
    }

    /** What an embedding request used: the tokens of its inputs. */
    public void used(ChatEvent.Usage usage) {
        this.usage = usage;
    }

    /** Sets x-gatehouse-cost-usd once the usage is known: for a whole answer, before its headers go. */
    public void costHeader() {
        ChatEvent.Usage used = metered != null ? metered.usage() : usage;
        if (used != null) {
            double cost = cacheHit ? 0 : pipeline.usage.cost(backend, used.promptTokens(), used.completionTokens());
            headers.accept(COST, BigDecimal.valueOf(cost).toPlainString());
        }
    }

    /**
     * Loads a model unloaded for idleness before it is looked up: the model asked for, or the local
     * targets of the route of that name.
     */
    private void wake(String model) throws InterruptedException {
        pipeline.models.wake(model);
        for (String target : pipeline.router.localTargets(model)) {
            pipeline.models.wake(target);
        }
    }

    /** A model-store folder not loaded yet: the client is told to retry, not that it does not exist. */
    private void refuseWhileLoading(String model) {
        if (pipeline.models.loading(model)) {
            throw new ApiException(503, "server_error", "model_loading", "model",
                    "The model '" + model + "' is still loading; retry shortly.", 5);
        }
    }

    private void refuseEmbeddingModel(String model) {
        if (pipeline.models.embeddings(model).isPresent()) {
            throw ApiException.invalid("model", "The model '" + model + "' is an embedding model; use /v1/embeddings.");
        }
    }

    /**
     * The request is answered with {@code status} (499 when the client went away): lets go of its
     * admission, and records its metrics and usage. Whatever was generated is paid for, also when
     * the client hung up mid-stream.
     */
    public void end(int status) {
        ChatEvent.Usage used = metered != null ? metered.usageOrEstimate(promptEstimate) : usage;
        long nanos = System.nanoTime() - start;
        UsageRecord row = caller == null ? null : usageRow(used, status, nanos);
        if (admission != null) {
            if (used != null) { // a cached answer ran no model: it spends no tokens
                admission.settle(cacheHit ? 0 : used.totalTokens());
            }
            admission.settleCost(row.costUsd()); // before the row is logged: a budget's read of the log never misses it
            admission.close();
        }
        pipeline.metrics.request(route, metricModel, status, nanos);
        if (row != null) {
            long firstToken = metered == null || metered.firstTokenNanos() < 0 ? -1
                    : TimeUnit.NANOSECONDS.toMillis(metered.firstTokenNanos() - start);
            pipeline.traffic.record(row, firstToken);
            try {
                pipeline.usage.record(row, metricModel);
            } catch (RuntimeException e) { // the answer is sent: a failing usage store must not turn it into a 500
                LOG.log(Level.SEVERE, "cannot record usage for " + route, e);
            }
        }
    }

    private UsageRecord usageRow(ChatEvent.Usage used, int status, long nanos) {
        long prompt = used == null ? 0 : used.promptTokens();
        long completion = used == null ? 0 : used.completionTokens();
        String user = caller.user() != null ? caller.user() : requestUser;
        return new UsageRecord(Instant.now(), route, caller.limitId(), user, requestedModel, backend, prompt,
                completion, cacheHit ? 0 : pipeline.usage.cost(backend, prompt, completion),
                TimeUnit.NANOSECONDS.toMillis(nanos), status, String.join(", ", fallbacks), cacheHit, rule);
    }
}
