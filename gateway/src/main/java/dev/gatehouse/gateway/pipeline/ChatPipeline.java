package dev.gatehouse.gateway.pipeline;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.cache.ResponseCache;
import dev.gatehouse.gateway.cache.SemanticCache;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.plugin.Plugins;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.usage.RecentTraffic;
import dev.gatehouse.gateway.usage.UsageRecorder;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The one request pipeline every inbound dialect calls, between decoding its wire format into a
 * ChatRequest and encoding the ChatEvent stream back: the caller's admission (budget, concurrency,
 * rate), plugins, the response cache and the router, then usage and metrics once the answer is out.
 * It speaks no dialect: a dialect authenticates the request, opens a {@link Call} and maps
 * ApiExceptions to its own error shape. Authentication stays with the dialect because each one names
 * its credentials differently (Authorization, x-api-key).
 */
public final class ChatPipeline {
    final LocalModels models;
    final Router router;
    final ApiAuth auth;
    final UsageRecorder usage;
    final ResponseCache cache;
    final SemanticCache semanticCache; // null when off
    final Plugins plugins;
    final HttpMetrics metrics;
    final RecentTraffic traffic;

    public ChatPipeline(LocalModels models, Router router, ApiAuth auth, UsageRecorder usage, ResponseCache cache,
                        SemanticCache semanticCache, Plugins plugins, HttpMetrics metrics, RecentTraffic traffic) {
        this.models = models;
        this.router = router;
        this.auth = auth;
        this.usage = usage;
        this.cache = cache;
        this.semanticCache = semanticCache;
        this.plugins = plugins;
        this.metrics = metrics;
        this.traffic = traffic;
    }

    /**
     * Starts the ledger of one request to {@code route} (e.g. /v1/chat/completions): {@code requestHeaders}
     * gives a request header's first value by lower-case name (null when absent), for routing rules; the
     * pipeline hands the response headers it sets (x-ratelimit-*, x-gatehouse-*) to {@code headers}.
     */
    public Call begin(String route, Function<String, String> requestHeaders, BiConsumer<String, String> headers) {
        return new Call(this, route, requestHeaders, headers);
    }

    public ApiAuth auth() {
        return auth;
    }

    /** The x-ratelimit-* headers of a caller for a request that costs nothing (a model list). */
    public void rateHeaders(ApiAuth.Caller caller, BiConsumer<String, String> headers) {
        if (caller.limitId() != null) {
            auth.limiter().peek(caller.limitId(), caller.rpm(), caller.tpm()).forEach(headers);
        }
    }

    /** The model names a caller may ask for: local models, then configured routes that are not local models. */
    public List<String> modelNames(ApiAuth.Caller caller) {
        List<String> names = new ArrayList<>();
        models.names().stream().filter(caller::allows).forEach(names::add);
        router.routeNames().stream().filter(name -> models.get(name).isEmpty() && allows(caller, name)).forEach(names::add);
        return names;
    }

    /**
     * Whether the caller may ask for {@code name}: a key or JWT allowed a route may ask for its versions
     * and aliases too ({@code chat@2025-05}, {@code chat-default}), as well as for names it lists itself.
     */
    private boolean allows(ApiAuth.Caller caller, String name) {
        if (caller.allows(name)) {
            return true;
        }
        String route = router.configuredRoute(name);
        return route != null && caller.allows(route);
    }

    /** 403 when the caller may not ask for {@code model} (see {@link #allows}); null passes (the decoder's 400). */
    public void requireModel(ApiAuth.Caller caller, String model) {
        if (model != null && !allows(caller, model)) {
            caller.requireModel(model); // the caller's own refusal, in its words
        }
    }

    /**
     * A chat request's prompt tokens: counted with a local model's own template and tokenizer; for any
     * other route, {@link TokenEstimate#prompt} (characters / 4), since providers count with tokenizers
     * Gatehouse does not have. A name that is neither is the usual 404.
     */
    public long promptTokens(ChatRequest request) {
        var local = models.get(request.model());
        if (local.isPresent()) {
            return local.get().promptTokens(request);
        }
        if (!router.isRoute(request.model())) {
            throw ApiException.modelNotFound(request.model());
        }
        return TokenEstimate.prompt(request);
    }

    /** Whether {@code name} is a chat or embedding model or a configured route. */
    public boolean serves(String name) {
        return models.get(name).isPresent() || models.embeddings(name).isPresent() || models.asleep(name)
                || router.isRoute(name);
    }
}
