package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.errors.NotFoundException;
import com.openai.errors.PermissionDeniedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.models.Model;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.KeyStore;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Model versions and aliases through the OpenAI SDK: {@code qwen3-8b} serves version 2025-08 by
 * default and 2025-05 on request ({@code qwen3-8b@2025-05}), {@code chat-default} is pinned to
 * 2025-05, and /v1/models lists every name a client may ask for.
 */
class ModelVersionsTest {
    private static final String MASTER = "master-key-for-versions";

    @TempDir
    static Path dir;
    static MockOpenAi mock;
    static KeyStore keys;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        mock = new MockOpenAi();
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  vllm: {type: openai-compatible, base-url: %s, api-key: ${KEY}}
                models:
                  - name: qwen3-8b
                    version: 2025-08
                    rules:
                      - name: v2025-05
                        when: {version: 2025-05}
                        targets: [{provider: vllm, model: qwen3-8b-2025-05}]
                    targets: [{provider: vllm, model: qwen3-8b-2025-08}]
                  - name: other
                    targets: [{provider: vllm, model: other}]
                aliases:
                  chat-default: qwen3-8b@2025-05
                  chat-latest: qwen3-8b
                """.formatted(mock.baseUrl()), Map.of("KEY", MockOpenAi.KEY));
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        server = GatewayServer.builder(new LocalModels(), registry).router(Router.of(config, new LocalModels(), registry))
                .auth(new ApiAuth(MASTER, keys)).maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
        client = RouteTestGateway.sdk(server).withOptions(o -> o.apiKey(MASTER));
    }

    @AfterAll
    static void stop() throws Exception {
        RouteTestGateway.stop(client, server);
        if (mock != null) {
            mock.close();
        }
        if (keys != null) {
            keys.close();
        }
    }

    /** "upstream model | x-gatehouse-route | model in the answer" for a request for {@code model}. */
    private static String served(OpenAIClient as, String model) {
        try (HttpResponseFor<ChatCompletion> response = as.chat().completions().withRawResponse().create(
                ChatCompletionCreateParams.builder().model(model).addUserMessage("hi").maxCompletionTokens(5).build())) {
            ChatCompletion answer = response.parse();
            return mock.received().getLast().body().path("model").asText() + " | "
                    + response.headers().values("x-gatehouse-route").getFirst() + " | " + answer.model();
        }
    }

    @Test
    void aVersionOrAnAliasPicksItsTargets() {
        assertEquals("qwen3-8b-2025-08 | qwen3-8b:default | qwen3-8b", served(client, "qwen3-8b"));
        assertEquals("qwen3-8b-2025-08 | qwen3-8b:default | qwen3-8b@2025-08", served(client, "qwen3-8b@2025-08"),
                "the route's own version is its default targets");
        assertEquals("qwen3-8b-2025-05 | qwen3-8b:v2025-05 | qwen3-8b@2025-05", served(client, "qwen3-8b@2025-05"));
        assertEquals("qwen3-8b-2025-05 | qwen3-8b:v2025-05 | chat-default", served(client, "chat-default"),
                "the client sees the name it asked for");
        assertEquals("qwen3-8b-2025-08 | qwen3-8b:default | chat-latest", served(client, "chat-latest"));
    }

    @Test
    void anUnknownVersionIsA404LikeAnyUnknownModel() {
        NotFoundException e = assertThrows(NotFoundException.class, () -> served(client, "qwen3-8b@2024-01"));
        assertEquals("model_not_found", e.code().orElseThrow());
        assertThrows(NotFoundException.class, () -> served(client, "other@2025-05"), "a route without versions has none");
        assertThrows(NotFoundException.class, () -> client.models().retrieve("qwen3-8b@2024-01"));
    }

    @Test
    void theModelListNamesEveryRouteVersionAndAlias() {
        assertEquals(List.of("qwen3-8b", "qwen3-8b@2025-08", "qwen3-8b@2025-05", "other", "chat-default", "chat-latest"),
                client.models().list().data().stream().map(Model::id).toList());
        assertEquals("chat-default", client.models().retrieve("chat-default").id());
        assertEquals("qwen3-8b@2025-05", client.models().retrieve("qwen3-8b@2025-05").id());
    }

    @Test
    void aKeyAllowedARouteMayAskForItsVersionsAndAliasesButNoOtherRoute() {
        String key = keys.create(new KeyStore.Spec("qwen-only", List.of("qwen3-8b"), null, null, null, null, null, null)).key();
        OpenAIClient limited = client.withOptions(o -> o.apiKey(key));
        assertEquals(List.of("qwen3-8b", "qwen3-8b@2025-08", "qwen3-8b@2025-05", "chat-default", "chat-latest"),
                limited.models().list().data().stream().map(Model::id).toList());
        assertEquals("qwen3-8b-2025-05 | qwen3-8b:v2025-05 | chat-default", served(limited, "chat-default"));
        assertEquals("qwen3-8b-2025-05 | qwen3-8b:v2025-05 | qwen3-8b@2025-05", served(limited, "qwen3-8b@2025-05"));
        assertThrows(PermissionDeniedException.class, () -> served(limited, "other"));
    }
}
