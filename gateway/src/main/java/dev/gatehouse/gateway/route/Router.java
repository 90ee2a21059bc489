package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.Providers;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.ModelAlias;
import dev.gatehouse.gateway.config.ModelRoute;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.serving.engine.Capacity;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.random.RandomGenerator;
import java.util.stream.Stream;

/**
 * Model name -> the target that answers it, and the only place that falls back. Targets are tried
 * by priority (default: the order gatehouse.yaml lists them); targets of equal priority are shuffled
 * per request by weight (see {@link #order}), which spreads load, and then fallback walks that order:
 * <ul>
 * <li>a local target is passed over (spill) when its engine's queue is full or its estimated wait
 *     is above the route's max-queue-wait-ms, unless it is the last target left;</li>
 * <li>any target is passed over when it fails with 429 or 5xx (local overload, provider errors,
 *     timeouts, connections refused or dropped) before its first event;</li>
 * <li>other 4xx are the client's: returned as they are, except context_length_exceeded, which
 *     another target with a larger context may serve (later targets whose context is known and no
 *     larger are passed over as "context too small"), and a parameter the target cannot serve
 *     ({@link ApiException#isUnsupported()}: seed on Anthropic, ...), which another target may; the
 *     first such refusal is the answer only when no target failed otherwise;</li>
 * <li>the last target, having no one to pass to, is retried if it is a provider on those failures
 *     (its {@code retries} times) after a short backoff that honours Retry-After (see {@link Backoff});</li>
 * <li>a provider that failed its {@code circuit-breaker.failures} times in a row is skipped until its
 *     breaker's cooldown has passed (see {@link CircuitBreaker}); one breaker per provider, since a
 *     dead provider is dead for all its models.</li>
 * </ul>
 * A streamed answer that breaks after its first event is continued on the targets after the one that
 * broke (mid-stream failover, see {@link FailoverStream}), unless its route turns that off.
 * A name not in {@code models:} goes to the local model of that name, or with {@code provider/model}
 * straight to that provider. Before any of that, {@link #plan} picks which targets: the first of the
 * route's rules that the request meets, else the route's own (see {@link RuleMatching}); an alias or
 * {@code name@version} names a route and the version its rules are matched with.
 */
public final class Router {
    private final Map<String, ModelRoute> routes;
    private final Map<String, ModelAlias> aliases;
    private final Map<String, Resolved> versions = new LinkedHashMap<>(); // ROUTE@VERSION, worked out once
    private final LocalModels local;
    private final Map<String, Backend> providers;
    private final Map<String, ProviderConfig.Failures> failures;
    private final Map<String, CircuitBreaker> breakers = new LinkedHashMap<>();
    private final RandomGenerator random;
    private final RouteMetrics metrics;

    Router(List<ModelRoute> routes, Map<String, ModelAlias> aliases, LocalModels local, Map<String, Backend> providers,
           Map<String, ProviderConfig.Failures> failures, RandomGenerator random, MeterRegistry registry) {
        this.metrics = new RouteMetrics(registry);
        for (String provider : providers.keySet()) {
            ProviderConfig.Failures f = failures.getOrDefault(provider, ProviderConfig.Failures.DEFAULT);
            CircuitBreaker breaker = new CircuitBreaker(f.breakerFailures(), f.breakerCooldownMillis(), System::currentTimeMillis);
            breakers.put(provider, breaker);
            metrics.breaker(provider, breaker);
        }
        this.routes = new LinkedHashMap<>();
        for (ModelRoute r : routes) {
            this.routes.put(r.name(), r);
            r.versions().forEach(v -> versions.put(r.name() + "@" + v, new Resolved(r, v, r.name())));
        }
        this.aliases = new LinkedHashMap<>(aliases); // in the order written, for /v1/models
        this.local = local;
        this.providers = Map.copyOf(providers);
        this.failures = Map.copyOf(failures);
        this.random = random;
    }

    /** Local models only: today's behaviour with no gatehouse.yaml. */
    public static Router localOnly(LocalModels local, MeterRegistry registry) {
        return new Router(List.of(), Map.of(), local, Map.of(), Map.of(), new SplittableRandom(), registry);
    }

    public static Router of(GatehouseConfig config, LocalModels local, MeterRegistry registry) {
        return of(config, local, new SplittableRandom(), registry);
    }

    /** {@code random} shuffles targets of equal priority; tests pass a seeded one. */
    public static Router of(GatehouseConfig config, LocalModels local, RandomGenerator random, MeterRegistry registry) {
        Map<String, ProviderConfig.Failures> failures = new LinkedHashMap<>();
        config.providers().values().forEach(p -> failures.put(p.name(), p.failures()));
        return of(config, local, failures, random, registry);
    }

    /** Every provider's breaker set to these, whatever the config says: for tests. */
    static Router of(GatehouseConfig config, LocalModels local, int breakerThreshold, long breakerCooldownMillis,
                     MeterRegistry registry) {
        Map<String, ProviderConfig.Failures> failures = new LinkedHashMap<>();
        config.providers().values().forEach(p -> failures.put(p.name(),
                new ProviderConfig.Failures(p.failures().retries(), breakerThreshold, breakerCooldownMillis)));
        return of(config, local, failures, new SplittableRandom(), registry);
    }

    private static Router of(GatehouseConfig config, LocalModels local, Map<String, ProviderConfig.Failures> failures,
                             RandomGenerator random, MeterRegistry registry) {
        Map<String, Backend> providers = new LinkedHashMap<>();
        for (ProviderConfig p : config.providers().values()) {
            providers.put(p.name(), Providers.backend(p));
        }
        return new Router(config.models(), config.aliases(), local, providers, failures, random, registry);
    }

    /**
     * The names clients may ask for beside the local models: each route of {@code models:} followed by
     * its {@code name@version}s, then the aliases.
     */
    public List<String> routeNames() {
        List<String> names = new ArrayList<>();
        for (ModelRoute route : routes.values()) {
            names.add(route.name());
            route.versions().forEach(v -> names.add(route.name() + "@" + v));
        }
        names.addAll(aliases.keySet());
        return List.copyOf(names);
    }

    /** Local targets of the routes that no loaded model serves: a typo in gatehouse.yaml, or a failed load. */
    public List<String> missingLocalTargets() {
        return routes.values().stream().flatMap(Router::allTargets).filter(ModelRoute.Target::isLocal)
                .map(ModelRoute.Target::local).distinct().filter(name -> local.get(name).isEmpty()).toList();
    }

    /** The local models the route named {@code model} may send to (none when it is not a route). */
    public List<String> localTargets(String model) {
        ModelRoute route = model == null ? null : routes.get(model);
        return route == null ? List.of() : route.targets().stream().filter(ModelRoute.Target::isLocal)
                .map(ModelRoute.Target::local).distinct().toList();
    }

    /** Each provider's circuit breaker as the dashboard shows it: closed, open or half-open. */
    public Map<String, String> breakerStates() {
        Map<String, String> out = new LinkedHashMap<>();
        breakers.forEach((provider, breaker) -> out.put(provider, breaker.state().name().toLowerCase(Locale.ROOT).replace('_', '-')));
        return out;
    }

    /** The name to tag metrics with: configured and local names as they are, provider/model as provider/*. */
    public String metricName(String model) {
        if (isRoute(model) || local.get(model).isPresent() || model.indexOf('/') < 0) {
            return model;
        }
        return model.substring(0, model.indexOf('/')) + "/*";
    }

    /** The route of {@code models:} that {@code name} (the route, a version of it or an alias) asks for; null for any other name. */
    public String configuredRoute(String name) {
        if (routes.containsKey(name)) {
            return name;
        }
        ModelAlias alias = aliases.get(name);
        if (alias != null) {
            return alias.route();
        }
        Resolved versioned = versions.get(name);
        return versioned != null ? versioned.route().name() : null;
    }

    /** A route of {@code models:}, one of its versions or an alias. */
    public boolean isRoute(String name) {
        return configuredRoute(name) != null;
    }

    /**
     * Every target {@code model} may be routed to (none for a name the router does not know: opening it
     * is a 404). What a budget reserves before the request runs is priced from these.
     */
    public List<Destination> destinations(String model) {
        Resolved resolved;
        try {
            resolved = model == null ? null : resolve(model);
        } catch (ApiException e) {
            return List.of();
        }
        if (resolved == null) {
            return List.of();
        }
        List<Destination> out = new ArrayList<>();
        for (ModelRoute.Target t : allTargets(resolved.route()).distinct().toList()) {
            if (t.isLocal()) {
                Integer context = local.get(t.local()).map(lb -> lb.engine().maxModelLength()).orElse(null);
                out.add(new Destination("local:" + t.local(), context));
            } else {
                out.add(new Destination(t.provider() + ":" + t.model(), t.contextLength()));
            }
        }
        return out;
    }

    /**
     * Which targets serve {@code request}, in the order to try them: the first rule of its route that
     * the request meets, else the route's own targets; ordered by priority and weight, per request or,
     * on a sticky route, per caller (see {@link #stickySeed}). 404 for a name the router does not know.
     */
    public Plan plan(ChatRequest request, RequestAttributes attributes) {
        Resolved resolved = resolve(request.model());
        ModelRoute route = resolved.route();
        String version = resolved.version() != null ? resolved.version() : route.version();
        String rule = ModelRoute.DEFAULT_RULE;
        List<ModelRoute.Target> targets = route.targets();
        for (ModelRoute.Rule candidate : route.rules()) {
            if (RuleMatching.matches(candidate.when(), attributes, version)) {
                rule = candidate.name();
                targets = candidate.targets();
                break;
            }
        }
        String identity = route.sticky() ? attributes.stickyIdentity() : null;
        List<ModelRoute.Target> ordered = identity == null ? order(targets, random)
                : order(targets, new SplittableRandom(stickySeed(identity, route.name(), rule)));
        return new Plan(route.name(), rule, ordered, route.maxQueueWaitMillis(), resolved.metricRoute(),
                route.midStreamFailover());
    }

    /**
     * Opens the request on the first target of {@code plan} that takes it and has sent its first event.
     * Throws the target's ApiException when the first target refuses for a reason of the client's, and
     * {@link RouteFailed} (the last error, with the targets passed over) after any fallback.
     */
    public Routed open(Plan plan, ChatRequest request) throws InterruptedException {
        if (plan.targets().isEmpty()) { // a rule whose providers were all skipped at start
            throw new ApiException(503, "server_error", "backend_unavailable", null,
                    "No target for model '" + request.model() + "' is available.", null);
        }
        return open(request, plan, plan.targets(), null);
    }

    /**
     * Tries {@code targets} in order; {@code partial} is null for the client's request, or the text of an
     * answer a target broke off, which the targets are asked to continue ({@link FailoverStream}).
     */
    private Routed open(ChatRequest request, Plan plan, List<ModelRoute.Target> targets, String partial)
            throws InterruptedException {
        List<String> fallbacks = new ArrayList<>();
        ApiException last = null; // the last failure of a target
        ApiException refusal = null; // the first target's refusal of a parameter it cannot serve
        Integer exceededContext = null; // the largest known context that answered context_length_exceeded
        int retries = 0;
        for (int i = 0; i < targets.size(); i++) {
            ModelRoute.Target target = targets.get(i);
            boolean lastTarget = i == targets.size() - 1;
            String label = target.label();
            String meterName = target.isLocal() ? label : target.provider(); // few series: no client-typed model names
            Backend backend = target.isLocal() ? local.get(target.local()).orElse(null) : providers.get(target.provider());
            if (backend == null) {
                fallbacks.add(label + " (unavailable)");
                metrics.fallback(meterName, "unavailable");
                last = new ApiException(503, "server_error", "backend_unavailable", null,
                        "No target for model '" + request.model() + "' is available.", null);
                continue;
            }
            Capabilities.Gap gap = backend.capabilities().gap(request);
            if (gap != null) {
                // this target cannot serve the request as asked; another may
                fallbacks.add(label + " (" + gap.reason() + ")");
                metrics.fallback(meterName, "unsupported");
                if (refusal == null) {
                    refusal = gap.error();
                }
                continue;
            }
            Integer context = backend.capabilities().contextLength() != null ? backend.capabilities().contextLength()
                    : target.contextLength(); // a local engine knows its own; a provider target's is configured
            if (tooSmall(context, exceededContext)) {
                fallbacks.add(label + " (context too small)");
                metrics.fallback(meterName, "context_too_small");
                continue; // not a failure of its own: if none is left, the error is the last one tried
            }
            if (!lastTarget && backend.capacity() != null) {
                String busy = busy(backend.capacity(), plan.maxQueueWaitMillis());
                if (busy != null) {
                    fallbacks.add(label + " (" + busy + ")");
                    metrics.fallback(meterName, busy.startsWith("queue full") ? "queue_full" : "queue_wait");
                    metrics.spill(meterName);
                    continue;
                }
            }
            // local engines say how busy they are; a provider's breaker remembers how it has been failing
            CircuitBreaker breaker = target.isLocal() ? null : breakers.get(target.provider());
            CircuitBreaker.Permit permit = breaker == null ? CircuitBreaker.Permit.GRANTED : breaker.allow();
            if (permit == CircuitBreaker.Permit.DENIED) {
                fallbacks.add(label + " (circuit open)");
                metrics.fallback(meterName, "circuit_open");
                last = new ApiException(503, "server_error", "backend_unavailable", null,
                        "No target for model '" + request.model() + "' is available.", null);
                continue;
            }
            ChatStream stream = null;
            boolean judged = false; // whether the breaker heard how the target did; a half-open trial must be let go either way
            long start = System.nanoTime();
            try {
                String model = target.isLocal() ? target.local() : target.model();
                ChatRequest asked = partial == null ? request : Continuation.of(request, partial, backend.prefills(model));
                stream = backend.open(asked.withModel(model));
                ChatEvent first = stream.next();
                metrics.attempt(meterName, "ok", System.nanoTime() - start);
                metrics.routed(plan.metricRoute(), plan.rule(), meterName);
                if (breaker != null) {
                    breaker.success();
                    judged = true;
                }
                ChatStream answer = new PeekedStream(first, stream, () -> metrics.answered(meterName, System.nanoTime() - start));
                List<ModelRoute.Target> rest = targets.subList(i + 1, targets.size());
                if (request.stream() && plan.midStreamFailover() && !rest.isEmpty() && Continuation.possible(request)) {
                    String before = partial == null ? "" : partial;
                    answer = new FailoverStream(answer, before, text -> open(request, plan, rest, text).stream(),
                            () -> metrics.fallback(meterName, "mid_stream"));
                }
                return new Routed(answer, label, List.copyOf(fallbacks));
            } catch (ApiException e) {
                if (stream != null) {
                    stream.close();
                }
                if (e.isUnsupported()) {
                    // this target cannot take the request as asked (seed on Anthropic, ...); another may
                    fallbacks.add(label + " (unsupported)");
                    metrics.fallback(meterName, "unsupported");
                    if (refusal == null) {
                        refusal = e;
                    }
                    continue;
                }
                metrics.attempt(meterName, String.valueOf(e.status()), System.nanoTime() - start);
                boolean targetFailed = e.status() == 429 || e.status() >= 500;
                if (breaker != null) {
                    if (targetFailed) {
                        breaker.failure();
                    } else {
                        breaker.success(); // it answered; the request was the problem
                    }
                    judged = true;
                }
                boolean tooLong = "context_length_exceeded".equals(e.code());
                if (!targetFailed && !tooLong) {
                    throw fallbacks.isEmpty() ? e : new RouteFailed(e, fallbacks);
                }
                String reason = targetFailed ? String.valueOf(e.status()) : e.code();
                fallbacks.add(label + " (" + reason + ")");
                metrics.fallback(meterName, reason);
                last = e;
                if (tooLong && context != null && (exceededContext == null || context > exceededContext)) {
                    exceededContext = context;
                }
                // a local engine's own queue is its wait; only a provider is worth asking again
                // (and not when it refused Gatehouse's key: that will not pass on a second try)
                boolean worthRetrying = lastTarget && targetFailed && !target.isLocal() && !"upstream_auth_failed".equals(e.code());
                Long wait = worthRetrying ? Backoff.delayMillis(retries,
                        failures.getOrDefault(target.provider(), ProviderConfig.Failures.DEFAULT).retries(), e.retryAfterMillis()) : null;
                if (wait != null) {
                    retries++;
                    Thread.sleep(wait);
                    i--; // the same target again
                }
            } catch (InterruptedException | RuntimeException e) {
                if (stream != null) {
                    stream.close();
                }
                throw e;
            } finally {
                if (permit == CircuitBreaker.Permit.TRIAL && !judged) {
                    breaker.release();
                }
            }
        }
        // a refusal is the answer only when no target failed otherwise: one that failed might have served it
        ApiException error = last != null ? last : refusal;
        throw fallbacks.size() == 1 && targets.size() == 1 ? error : new RouteFailed(error, fallbacks);
    }

    /**
     * The order to try {@code targets} in for one request: by priority ascending (a target without one
     * has its position in the list), and within one priority a weighted shuffle, i.e. weighted sampling
     * without replacement, so with weights 3 and 1 the first is tried first about 3 times in 4.
     */
    static List<ModelRoute.Target> order(List<ModelRoute.Target> targets, RandomGenerator random) {
        TreeMap<Integer, List<ModelRoute.Target>> byPriority = new TreeMap<>();
        for (int i = 0; i < targets.size(); i++) {
            ModelRoute.Target t = targets.get(i);
            byPriority.computeIfAbsent(t.priority() == null ? i : t.priority(), p -> new ArrayList<>()).add(t);
        }
        List<ModelRoute.Target> order = new ArrayList<>(targets.size());
        for (List<ModelRoute.Target> tier : byPriority.values()) {
            List<ModelRoute.Target> left = new ArrayList<>(tier);
            while (left.size() > 1) {
                double total = 0;
                for (ModelRoute.Target t : left) {
                    total += t.weight();
                }
                double r;
                synchronized (random) { // one Router serves every request thread; SplittableRandom is not thread-safe
                    r = random.nextDouble() * total;
                }
                int pick = 0;
                while (pick < left.size() - 1 && (r -= left.get(pick).weight()) >= 0) {
                    pick++;
                }
                order.add(left.remove(pick));
            }
            order.addAll(left);
        }
        return order;
    }

    /**
     * The route a model name asks for and the version it names: a route of {@code models:}, an alias,
     * {@code route@version} (a version the route has; another is a 404), a local model, or
     * {@code provider/model}. An exact name wins over a version, so provider models with an '@' (Vertex
     * AI's {@code claude-3-5-sonnet@20240620}) pass through as they are.
     */
    private Resolved resolve(String model) {
        ModelRoute route = routes.get(model);
        if (route != null) {
            return new Resolved(route, null, model);
        }
        ModelAlias alias = aliases.get(model);
        if (alias != null) {
            return new Resolved(routes.get(alias.route()), alias.version(), alias.route());
        }
        Resolved versioned = versions.get(model); // a version the route does not have falls through to the 404
        if (versioned != null) {
            return versioned;
        }
        if (local.get(model).isPresent()) {
            return new Resolved(new ModelRoute(model, List.of(ModelRoute.Target.local(model)),
                    ModelRoute.DEFAULT_MAX_QUEUE_WAIT_MILLIS), null, model);
        }
        int slash = model.indexOf('/');
        if (slash > 0 && providers.containsKey(model.substring(0, slash)) && slash < model.length() - 1) {
            return new Resolved(new ModelRoute(model, List.of(ModelRoute.Target.provider(model.substring(0, slash),
                    model.substring(slash + 1))), ModelRoute.DEFAULT_MAX_QUEUE_WAIT_MILLIS), null,
                    model.substring(0, slash) + "/*");
        }
        throw ApiException.modelNotFound(model);
    }

    /** @param metricRoute the route as a metric label: a configured or local name, {@code provider/*} for the rest */
    private record Resolved(ModelRoute route, String version, String metricRoute) {}

    /** A route's own targets and its rules'. */
    private static Stream<ModelRoute.Target> allTargets(ModelRoute route) {
        return Stream.concat(route.targets().stream(), route.rules().stream().flatMap(r -> r.targets().stream()));
    }

    /**
     * The seed a sticky route orders a caller's targets with: the first 8 bytes of SHA-256 over who is
     * asking, the route and the rule, so the same caller meets the same weighted draw on every request
     * and every Gatehouse replica, while callers spread over the weights like random draws.
     */
    static long stickySeed(String identity, String route, String rule) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest((identity + "\n" + route + "\n" + rule).getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(hash).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /**
     * Whether a target of {@code context} tokens need not be tried, because a target of
     * {@code exceededContext} tokens already found the request too long. Either one unknown: it may
     * still fit, so it is tried.
     */
    private static boolean tooSmall(Integer context, Integer exceededContext) {
        return context != null && exceededContext != null && context <= exceededContext;
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

}
