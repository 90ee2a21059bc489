package dev.gatehouse.gateway.server;

import dev.gatehouse.gateway.admin.AdminApi;
import dev.gatehouse.gateway.admin.ModelsAdminApi;
import dev.gatehouse.gateway.admin.TrafficApi;
import dev.gatehouse.gateway.api.anthropic.AnthropicApi;
import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.api.responses.ResponsesApi;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.cache.AnswerStore;
import dev.gatehouse.gateway.cache.InMemorySemanticAnswers;
import dev.gatehouse.gateway.cache.ResponseCache;
import dev.gatehouse.gateway.cache.SemanticAnswers;
import dev.gatehouse.gateway.cache.SemanticCache;
import dev.gatehouse.gateway.config.CacheConfig;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import dev.gatehouse.gateway.config.ServerLimits;
import dev.gatehouse.gateway.connection.ClientDeadlines;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.pipeline.ChatPipeline;
import dev.gatehouse.gateway.pipeline.HttpMetrics;
import dev.gatehouse.gateway.plugin.Plugins;
import dev.gatehouse.gateway.policy.ConcurrencyLimiter;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.ui.Dashboard;
import dev.gatehouse.gateway.usage.RecentTraffic;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.helidon.common.mapper.MapperManager;
import io.helidon.http.DirectHandler;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http1.Http1Config;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;

/**
 * The HTTP server: the OpenAI API under /v1, the admin API, health checks, Prometheus metrics.
 * Routing is spelled out here, one line per endpoint.
 */
public final class GatewayServer implements AutoCloseable {
    static {
        // Helidon 4.2 reads every request's Content-Length through MapperManager.global(), which asks its
        // service registry each time unless a manager was set: ~8 % of a proxied request's CPU. Set once,
        // before any server starts (Helidon 4.3 caches it itself).
        MapperManager.global(MapperManager.create());
    }

    private final WebServer server;
    private final LocalModels models;
    private final Duration grace;
    private final UsageRecorder usage;
    private final ModelsAdminApi modelsAdmin;
    private final Drain drain;
    private final ClientDeadlines deadlines;

    private GatewayServer(WebServer server, LocalModels models, Duration grace, UsageRecorder usage,
                          ModelsAdminApi modelsAdmin, Drain drain, ClientDeadlines deadlines) {
        this.drain = drain;
        this.deadlines = deadlines;
        this.server = server;
        this.models = models;
        this.grace = grace;
        this.usage = usage;
        this.modelsAdmin = modelsAdmin;
    }

    /** A server over {@code models}; every other part has a default (see {@link Builder}). */
    public static Builder builder(LocalModels models, PrometheusMeterRegistry registry) {
        return new Builder(models, registry);
    }

    /**
     * What the server is made of. Defaults: 127.0.0.1 on a free port, local models only, 4 MiB
     * bodies, 30 s grace, no keys, usage in memory only, no response cache, no model store (the
     * /admin/models endpoints answer 503), no plugins, {@link ServerLimits#DEFAULTS}.
     */
    public static final class Builder {
        private final LocalModels models;
        private final PrometheusMeterRegistry registry;
        private String host = "127.0.0.1";
        private int port;
        private Router router;
        private long maxBodyBytes = 4L << 20;
        private Duration grace = Duration.ofSeconds(30);
        private ApiAuth auth = ApiAuth.none();
        private UsageRecorder usage;
        private CacheConfig cache = CacheConfig.OFF;
        private SemanticCacheConfig semanticCache = SemanticCacheConfig.OFF;
        private AnswerStore answers; // null: in this instance's memory
        private SemanticAnswers semanticAnswers; // null: in this instance's memory
        private String metricsToken;
        private LocalStore store;
        private HubClient hub;
        private Plugins plugins = Plugins.NONE;
        private ServerLimits limits = ServerLimits.DEFAULTS;

        private Builder(LocalModels models, PrometheusMeterRegistry registry) {
            this.models = models;
            this.registry = registry;
        }

        public Builder host(String host) {
            this.host = host;
            return this;
        }

        /** 0 = any free port. */
        public Builder port(int port) {
            this.port = port;
            return this;
        }

        public Builder router(Router router) {
            this.router = router;
            return this;
        }

        public Builder maxBodyBytes(long maxBodyBytes) {
            this.maxBodyBytes = maxBodyBytes;
            return this;
        }

        /** How long running requests may finish on close. */
        public Builder grace(Duration grace) {
            this.grace = grace;
            return this;
        }

        public Builder auth(ApiAuth auth) {
            this.auth = auth;
            return this;
        }

        /** The server owns it from here: closing the server writes the last usage rows. */
        public Builder usage(UsageRecorder usage) {
            this.usage = usage;
            return this;
        }

        public Builder cache(CacheConfig cache) {
            this.cache = cache;
            return this;
        }

        /** Where the response cache keeps answers when it is on: Redis shared by several instances; default this one's memory. */
        public Builder answers(AnswerStore answers) {
            this.answers = answers;
            return this;
        }

        /** {@code metrics.token}: what a scrape of /metrics must present as a bearer token; null: /metrics is open. */
        public Builder metricsToken(String token) {
            this.metricsToken = token;
            return this;
        }

        /** Answers reused for similar messages ({@code semantic-cache:}), embedded by one of {@code models}. */
        public Builder semanticCache(SemanticCacheConfig semanticCache) {
            this.semanticCache = semanticCache;
            return this;
        }

        /** Where the semantic cache keeps answers: PostgreSQL (pgvector) shared by several instances; default this one's memory. */
        public Builder semanticAnswers(SemanticAnswers semanticAnswers) {
            this.semanticAnswers = semanticAnswers;
            return this;
        }

        /** The model store that /admin/models loads from and pulls into, pulling from {@code hub}. */
        public Builder store(LocalStore store, HubClient hub) {
            this.store = store;
            this.hub = hub;
            return this;
        }

        /** Request and response hooks for the completion endpoints, in order. */
        public Builder plugins(Plugins plugins) {
            this.plugins = plugins;
            return this;
        }

        /** Timeouts for slow clients, and how many connections and requests at once. */
        public Builder limits(ServerLimits limits) {
            this.limits = limits;
            return this;
        }

        public GatewayServer start() {
            Router r = router != null ? router : Router.localOnly(models, registry);
            UsageRecorder u = usage != null ? usage : UsageRecorder.inMemory(registry);
            ResponseCache responses = answers == null ? ResponseCache.of(cache, registry) : ResponseCache.of(cache, registry, answers);
            models.onChange(responses::forget); // a reloaded or unloaded model's cached answers are not its answers
            RecentTraffic traffic = new RecentTraffic();
            SemanticCache semantic = SemanticCache.of(semanticCache, models::embedOne,
                    semanticAnswers != null ? semanticAnswers : new InMemorySemanticAnswers(semanticCache), registry);
            ChatPipeline pipeline = new ChatPipeline(models, r, auth, u, responses, semantic, plugins,
                    new HttpMetrics(registry), traffic);
            OpenAiApi openAi = new OpenAiApi(pipeline, maxBodyBytes);
            ModelsAdminApi modelsAdmin = new ModelsAdminApi(auth, models, store, hub, registry, grace);
            Drain drain = new Drain();
            ClientDeadlines deadlines = new ClientDeadlines(limits);
            Gauge.builder("gatehouse.http.in.flight", drain, Drain::inFlight)
                    .description("Requests being answered, this scrape included").register(registry);
            Gauge.builder("gatehouse.policy.concurrency.held", auth.concurrency(), ConcurrencyLimiter::held)
                    .description("Concurrency slots (max-concurrent) held by keys and JWT users").register(registry);
            WebServer server = WebServer.builder()
                    .host(host)
                    .port(port)
                    .maxTcpConnections(limits.maxConnections())
                    .maxConcurrentRequests(limits.maxRequests()) // over it: 503 through transportError
                    .idleConnectionTimeout(limits.idleTimeout())
                    .idleConnectionPeriod(idleCheckPeriod(limits.idleTimeout()))
                    .protocolsDiscoverServices(false) // else Helidon adds its own HTTP/1.1 next to this one
                    .addProtocol(Http1Config.builder().name("http_1_1").addReceiveListener(deadlines).build())
                    .shutdownHook(false) // Gatehouse drains the engines itself before the server stops
                    // Nagle off: a stream's small SSE chunks (and the chunked body's terminating chunk) would
                    // otherwise wait for the client's delayed ACK, ~40 ms per stream on a kept-alive connection
                    .connectionOptions(socket -> socket.tcpNoDelay(true))
                    .directHandlers(handlers -> {
                        for (DirectHandler.EventType event : DirectHandler.EventType.values()) {
                            handlers.addHandler(event, OpenAiApi::transportError);
                        }
                    })
                    .routing(routing -> routing
                            .addFilter(new RequestFraming())
                            .addFilter(deadlines)
                            .addFilter(new AuthFailures(limits.authFailuresPerMinute()))
                            .addFilter(drain)
                            .get("/health", (req, res) -> res.send("{\"status\":\"ok\"}"))
                            .get("/health/ready", (req, res) -> {
                                if (drain.begun()) {
                                    res.status(Status.SERVICE_UNAVAILABLE_503).send("{\"status\":\"draining\"}");
                                } else if (models.ready()) {
                                    res.send("{\"status\":\"ready\"}");
                                } else {
                                    res.status(Status.SERVICE_UNAVAILABLE_503).send("{\"status\":\"loading\"}");
                                }
                            })
                            .get("/metrics", new MetricsEndpoint(registry, metricsToken)::handle)
                            .register("/v1", new AnthropicApi(pipeline, maxBodyBytes)) // before OpenAI's catch-all
                            .register("/v1", new ResponsesApi(openAi))
                            .register("/v1", openAi)
                            .register("/admin/models", modelsAdmin)
                            .register("/admin", new AdminApi(auth, u))
                            .register("/admin", new TrafficApi(auth, traffic, u, r))
                            .register("/ui", new Dashboard(auth))
                            // anything else, too, answers in OpenAI's error shape rather than Helidon's text/plain 404
                            .any(OpenAiApi::unknownUrl))
                    .build()
                    .start();
            return new GatewayServer(server, models, grace, u, modelsAdmin, drain, deadlines);
        }

        /** Helidon looks for idle connections every period (default 2 min): often enough that the timeout holds within a quarter. */
        private static Duration idleCheckPeriod(Duration idleTimeout) {
            Duration quarter = idleTimeout.dividedBy(4);
            return quarter.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : quarter;
        }
    }

    public static PrometheusMeterRegistry newRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    public int port() {
        return server.port();
    }

    /**
     * Graceful stop: not ready from now on, new generations refused, running requests answered to
     * their end within the grace period; then the listener and everything else close. A second call
     * does nothing.
     */
    @Override
    public void close() {
        if (!drain.begin()) {
            return;
        }
        long deadline = System.nanoTime() + grace.toNanos();
        try {
            models.drain(grace.toMillis()); // the engines take no new work and finish what they run
            int left = drain.awaitRequests(deadline); // and the handlers write the last of it
            if (left > 0) { // stderr: on SIGTERM java.util.logging may have reset itself already
                System.err.println("gatehouse: " + left + " requests still running after the " + grace.toSeconds()
                        + " s grace period are cut off");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.stop();
        deadlines.close();
        modelsAdmin.close(); // stops a running pull: its partial folder resumes on the next pull
        usage.close(); // after the server: every request's row is queued by now
        models.close();
    }
}
