package dev.gatehouse.gateway.server;

import dev.gatehouse.gateway.admin.AdminApi;
import dev.gatehouse.gateway.admin.ModelsAdminApi;
import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.local.LocalStore;
import dev.gatehouse.gateway.hub.HubClient;
import dev.gatehouse.gateway.route.Router;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;

/**
 * The HTTP server: the OpenAI API under /v1, health checks, Prometheus metrics. Routing is spelled
 * out here, one line per endpoint.
 */
public final class GatewayServer implements AutoCloseable {
    private final WebServer server;
    private final LocalModels models;
    private final Duration grace;

    private GatewayServer(WebServer server, LocalModels models, Duration grace) {
        this.server = server;
        this.models = models;
        this.grace = grace;
    }

    /** Local models only. */
    public static GatewayServer start(String host, int port, LocalModels models, PrometheusMeterRegistry registry,
                                      long maxBodyBytes, Duration grace) {
        return start(host, port, models, Router.localOnly(models, registry), registry, maxBodyBytes, grace);
    }

    /** No keys: /v1 open (serve then binds to loopback only). */
    public static GatewayServer start(String host, int port, LocalModels models, Router router,
                                      PrometheusMeterRegistry registry, long maxBodyBytes, Duration grace) {
        return start(host, port, models, router, registry, maxBodyBytes, grace, ApiAuth.none());
    }

    /** No model store: the /admin/models endpoints answer 503. */
    public static GatewayServer start(String host, int port, LocalModels models, Router router,
                                      PrometheusMeterRegistry registry, long maxBodyBytes, Duration grace, ApiAuth auth) {
        return start(host, port, models, router, registry, maxBodyBytes, grace, auth, null, null);
    }

    /** With the model store that /admin/models loads from and pulls into, pulling from {@code hub}. */
    public static GatewayServer start(String host, int port, LocalModels models, Router router,
                                      PrometheusMeterRegistry registry, long maxBodyBytes, Duration grace, ApiAuth auth,
                                      LocalStore store, HubClient hub) {
        OpenAiApi openAi = new OpenAiApi(models, router, maxBodyBytes, new HttpMetrics(registry), auth);
        WebServer server = WebServer.builder()
                .host(host)
                .port(port)
                .shutdownHook(false) // Gatehouse drains the engines itself before the server stops
                .directHandlers(handlers -> {
                    for (DirectHandler.EventType event : DirectHandler.EventType.values()) {
                        handlers.addHandler(event, OpenAiApi::transportError);
                    }
                })
                .routing(routing -> routing
                        .get("/health", (req, res) -> res.send("{\"status\":\"ok\"}"))
                        .get("/health/ready", (req, res) -> {
                            if (models.ready()) {
                                res.send("{\"status\":\"ready\"}");
                            } else {
                                res.status(Status.SERVICE_UNAVAILABLE_503).send("{\"status\":\"loading\"}");
                            }
                        })
                        .get("/metrics", (req, res) -> res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4")
                                .send(registry.scrape()))
                        .register("/v1", openAi)
                        .register("/admin/models", new ModelsAdminApi(auth, models, store, hub, registry, grace))
                        .register("/admin", new AdminApi(auth))
                        // anything else, too, answers in OpenAI's error shape rather than Helidon's text/plain 404
                        .any(OpenAiApi::unknownUrl))
                .build()
                .start();
        return new GatewayServer(server, models, grace);
    }

    public static PrometheusMeterRegistry newRegistry() {
        return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    }

    public int port() {
        return server.port();
    }

    /** Graceful stop: refuse new generations, let running ones finish within the grace period, then close. */
    @Override
    public void close() {
        try {
            models.drain(grace.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.stop();
        models.close();
    }
}
