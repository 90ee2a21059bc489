package dev.gatehouse.gateway.route;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;

/** The route tests' gateway: a server in front of the router under test, and the official OpenAI SDK pointed at it. */
final class RouteTestGateway {
    private RouteTestGateway() {}

    static GatewayServer start(LocalModels models, Router router, PrometheusMeterRegistry registry) {
        return GatewayServer.builder(models, registry).router(router)
                .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
    }

    /** No client retries (the router's are under test) and strict response checks. */
    static OpenAIClient sdk(GatewayServer server) {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("client-key")
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
    }

    /** Plans and opens {@code request} as a request without headers or caller, like the pipeline would. */
    static Routed open(Router router, ChatRequest request) throws InterruptedException {
        return router.open(router.plan(request, RequestAttributes.NONE), request);
    }

    /** Closes what {@code start} and {@code sdk} made; either may be null when the setup failed early. */
    static void stop(OpenAIClient client, GatewayServer server) {
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.close();
        }
    }
}
