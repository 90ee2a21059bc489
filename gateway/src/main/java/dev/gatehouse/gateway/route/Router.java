package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.anthropic.AnthropicBackend;
import dev.gatehouse.gateway.backend.gemini.GeminiBackend;
import dev.gatehouse.gateway.backend.local.LocalBackend;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.OpenAiBackend;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.ModelRoute;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.serving.engine.Capacity;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model name -> the target that answers it, and the only place that falls back. Targets are tried
 * in the order gatehouse.yaml lists them:
 * <ul>
 * <li>a local target is passed over (spill) when its engine's queue is full or its estimated wait
 *     is above the route's max-queue-wait-ms, unless it is the last target left;</li>
 * <li>any target is passed over when it fails with 429 or 5xx (local overload, provider errors,
 *     timeouts, connections refused or dropped) before its first event;</li>
 * <li>other 4xx are the client's: returned as they are.</li>
 * </ul>
 * A name not in {@code models:} goes to the local model of that name, or with {@code provider/model}
 * straight to that provider.
 */
public final class Router {
    private final Map<String, ModelRoute> routes;
    private final LocalModels local;
    private final Map<String, Backend> providers;

    public Router(List<ModelRoute> routes, LocalModels local, Map<String, Backend> providers) {
        this.routes = new LinkedHashMap<>();
        routes.forEach(r -> this.routes.put(r.name(), r));
        this.local = local;
        this.providers = Map.copyOf(providers);
    }

    /** Local models only: today's behaviour with no gatehouse.yaml. */
    public static Router localOnly(LocalModels local) {
        return new Router(List.of(), local, Map.of());
    }

    public static Router of(GatehouseConfig config, LocalModels local) {
        Map<String, Backend> providers = new LinkedHashMap<>();
        for (ProviderConfig p : config.providers().values()) {
            switch (p.type()) {
                case OPENAI, OPENAI_COMPATIBLE, AZURE_OPENAI -> providers.put(p.name(), new OpenAiBackend(p));
                case ANTHROPIC -> providers.put(p.name(), new AnthropicBackend(p));
                case GEMINI -> providers.put(p.name(), new GeminiBackend(p));
            }
        }
        return new Router(config.models(), local, providers);
    }

    /** The names of {@code models:}, which clients may ask for beside the local models. */
    public List<String> routeNames() {
        return List.copyOf(routes.keySet());
    }

    public boolean isRoute(String name) {
        return routes.containsKey(name);
    }

    /**
     * Opens the request on the first target that takes it and has sent its first event; throws the
     * last target's error when none does.
     */
    public Routed open(ChatRequest request) throws InterruptedException {
        ModelRoute route = route(request.model());
        List<String> fallbacks = new ArrayList<>();
        ApiException last = null;
        List<ModelRoute.Target> targets = route.targets();
        for (int i = 0; i < targets.size(); i++) {
            ModelRoute.Target target = targets.get(i);
            boolean lastTarget = i == targets.size() - 1;
            String label = target.isLocal() ? "local:" + target.local() : target.provider() + ":" + target.model();
            Backend backend = target.isLocal() ? local.get(target.local()).orElse(null) : providers.get(target.provider());
            if (backend == null) {
                fallbacks.add(label + " (unavailable)");
                last = new ApiException(503, "server_error", "backend_unavailable", null,
                        "No target for model '" + request.model() + "' is available.", null);
                continue;
            }
            if (!lastTarget && backend instanceof LocalBackend lb) {
                String busy = busy(lb.engine().capacity(), route.maxQueueWaitMillis());
                if (busy != null) {
                    fallbacks.add(label + " (" + busy + ")");
                    continue;
                }
            }
            ChatStream stream = null;
            try {
                stream = backend.open(request.withModel(target.isLocal() ? target.local() : target.model()));
                ChatEvent first = stream.next();
                return new Routed(new PeekedStream(first, stream), label, List.copyOf(fallbacks));
            } catch (ApiException e) {
                if (stream != null) {
                    stream.close();
                }
                if (!movesOn(e)) {
                    throw e;
                }
                fallbacks.add(label + " (" + e.status() + ")");
                last = e;
            } catch (InterruptedException | RuntimeException e) {
                if (stream != null) {
                    stream.close();
                }
                throw e;
            }
        }
        throw last;
    }

    private ModelRoute route(String model) {
        ModelRoute route = routes.get(model);
        if (route != null) {
            return route;
        }
        if (local.get(model).isPresent()) {
            return new ModelRoute(model, List.of(ModelRoute.Target.local(model)), ModelRoute.DEFAULT_MAX_QUEUE_WAIT_MILLIS);
        }
        int slash = model.indexOf('/');
        if (slash > 0 && providers.containsKey(model.substring(0, slash)) && slash < model.length() - 1) {
            return new ModelRoute(model, List.of(ModelRoute.Target.provider(model.substring(0, slash),
                    model.substring(slash + 1))), ModelRoute.DEFAULT_MAX_QUEUE_WAIT_MILLIS);
        }
        throw ApiException.modelNotFound(model);
    }

    /** Why a local engine should not take one more request now; null when it should. */
    private static String busy(Capacity c, long maxWaitMillis) {
        if (c.queueFull()) {
            return "queue full";
        }
        if (c.estimatedWaitMillis() > maxWaitMillis) {
            return "wait " + c.estimatedWaitMillis() + " ms > " + maxWaitMillis + " ms";
        }
        return null;
    }

    /** Rate limits and failures that are not the client's: another target may well succeed. */
    private static boolean movesOn(ApiException e) {
        return e.status() == 429 || e.status() >= 500;
    }
}
