package dev.gatehouse.gateway.route;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import dev.gatehouse.gateway.server.GatewayServer;
import java.time.Duration;

/** The official OpenAI SDK pointed at a gateway under test: no client retries (the router's are under test), strict response checks. */
final class RouteTestClients {
    private RouteTestClients() {}

    static OpenAIClient sdk(GatewayServer server) {
        return OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("client-key")
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
    }
}
