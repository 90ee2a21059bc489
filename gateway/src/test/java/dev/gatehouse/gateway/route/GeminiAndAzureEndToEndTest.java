package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gemini and Azure OpenAI behind Gatehouse, spoken to with the official OpenAI SDK: whole answers and
 * streams come back in OpenAI's shape (usage, finish_reason) and each provider hears its own
 * dialect (Gemini's generateContent, Azure's deployment URL, api-version and api-key header).
 */
class GeminiAndAzureEndToEndTest {
    private static final String AZURE_KEY = "azure-MOCK-0123456789abcdef0123456789abcdef";

    static MockGemini gemini;
    static MockOpenAi azure;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        gemini = new MockGemini();
        azure = new MockOpenAi();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  gemini: {type: gemini, base-url: %s, api-key: ${GEMINI_API_KEY}}
                  azure: {type: azure-openai, base-url: %s, api-key: ${AZURE_OPENAI_API_KEY}, api-version: 2024-10-21}
                models:
                  - name: flash
                    targets: [{provider: gemini, model: gemini-2.0-flash}]
                  - name: gpt-4o
                    targets: [{provider: azure, model: my-gpt4o-deployment}]
                """.formatted(gemini.baseUrl(), azure.root()),
                Map.of("GEMINI_API_KEY", MockGemini.KEY, "AZURE_OPENAI_API_KEY", AZURE_KEY));
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels noLocalModels = new LocalModels();
        server = RouteTestGateway.start(noLocalModels, Router.of(config, noLocalModels, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        gemini.close();
        azure.close();
    }

    @BeforeEach
    void clearFaults() {
        gemini.clearFaults();
        azure.clearFaults();
    }

    @Test
    void geminiAnswersAWholeCompletionInOpenAisShape() {
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("flash"))) {
            ChatCompletion completion = response.parse();

            assertEquals("Hello from Gemini.", completion.choices().get(0).message().content().orElseThrow());
            assertEquals("stop", completion.choices().get(0).finishReason().asString());
            assertUsage(completion.usage().orElseThrow(), 8, 5);
            assertEquals("flash", completion.model(), "the client's own name for the model");
            assertEquals("gemini:gemini-2.0-flash", header(response, "x-gatehouse-backend"));
        }
        MockGemini.Received r = gemini.received().getLast();
        assertEquals("/v1beta/models/gemini-2.0-flash:generateContent", r.path());
        assertNull(r.query(), "the key goes in a header, never the URL");
        assertEquals(MockGemini.KEY, r.header("x-goog-api-key"));
        assertEquals("Answer briefly.", r.body().path("systemInstruction").path("parts").path(0).path("text").asText());
        assertEquals("user", r.body().path("contents").path(0).path("role").asText());
        JsonNode generation = r.body().path("generationConfig");
        assertEquals(16, generation.path("maxOutputTokens").asInt());
        assertEquals(0.5, generation.path("temperature").asDouble(), 1e-6);
        assertEquals("END", generation.path("stopSequences").path(0).asText());
    }

    @Test
    void geminiStreamsInOpenAisShapeWithUsageLast() {
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream("flash");
             StreamResponse<ChatCompletionChunk> stream = response.parse()) {
            List<ChatCompletionChunk> chunks = stream.stream().toList();

            assertEquals("Hello from Gemini.", text(chunks));
            assertEquals(List.of("stop"), finishReasons(chunks));
            assertTrue(chunks.getLast().choices().isEmpty(), "the usage chunk has no choices, as OpenAI sends it");
            assertUsage(chunks.getLast().usage().orElseThrow(), 8, 5);
            assertTrue(chunks.stream().allMatch(c -> c.model().equals("flash")));
            assertEquals("gemini:gemini-2.0-flash", header(response, "x-gatehouse-backend"));
        }
        MockGemini.Received r = gemini.received().getLast();
        assertEquals("/v1beta/models/gemini-2.0-flash:streamGenerateContent", r.path());
        assertEquals("alt=sse", r.query());
    }

    @Test
    void geminiSafetyStopIsContentFilterWholeAndStreamed() {
        gemini.failNext(MockGemini.Fault.SAFETY);
        ChatCompletion whole = client.chat().completions().create(params("gemini/gemini-2.0-flash"));
        assertEquals("content_filter", whole.choices().get(0).finishReason().asString());
        assertEquals("", whole.choices().get(0).message().content().orElse(""), "nothing was let through");

        gemini.failNext(MockGemini.Fault.SAFETY_IN_STREAM);
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream("flash");
             StreamResponse<ChatCompletionChunk> stream = response.parse()) {
            List<ChatCompletionChunk> chunks = stream.stream().toList();

            assertEquals("Hello", text(chunks), "what came before the block");
            assertEquals(List.of("content_filter"), finishReasons(chunks));
            assertUsage(chunks.getLast().usage().orElseThrow(), 8, 1);
        }
    }

    @Test
    void azureAnswersAWholeCompletionFromTheDeploymentUrlWithItsApiKeyHeader() {
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("gpt-4o"))) {
            ChatCompletion completion = response.parse();

            assertEquals(MockOpenAi.REPLY, completion.choices().get(0).message().content().orElseThrow());
            assertEquals("stop", completion.choices().get(0).finishReason().asString());
            assertUsage(completion.usage().orElseThrow(), 19, 6);
            assertEquals("gpt-4o", completion.model());
            assertEquals("azure:my-gpt4o-deployment", header(response, "x-gatehouse-backend"));
        }
        MockOpenAi.Received r = azure.received().getLast();
        assertEquals("/openai/deployments/my-gpt4o-deployment/chat/completions", r.path());
        assertEquals("api-version=2024-10-21", r.query());
        assertEquals(AZURE_KEY, r.header("api-key"));
        assertNull(r.header("Authorization"), "Azure's key goes only in api-key");
        assertFalse(r.body().has("model"), "the deployment in the URL names the model");
        assertEquals(16, r.body().path("max_tokens").asInt());
    }

    @Test
    void azureStreamsInOpenAisShapeWithUsageLast() {
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream("gpt-4o");
             StreamResponse<ChatCompletionChunk> stream = response.parse()) {
            List<ChatCompletionChunk> chunks = stream.stream().toList();

            assertEquals(MockOpenAi.REPLY, text(chunks));
            assertEquals(List.of("stop"), finishReasons(chunks));
            assertUsage(chunks.getLast().usage().orElseThrow(), 19, 6);
            assertEquals("azure:my-gpt4o-deployment", header(response, "x-gatehouse-backend"));
        }
        MockOpenAi.Received r = azure.received().getLast();
        assertEquals("/openai/deployments/my-gpt4o-deployment/chat/completions", r.path());
        assertEquals("api-version=2024-10-21", r.query());
        assertEquals(AZURE_KEY, r.header("api-key"));
        assertTrue(r.body().path("stream").asBoolean());
    }

    private static ChatCompletionCreateParams params(String model) {
        return ChatCompletionCreateParams.builder().model(model).addSystemMessage("Answer briefly.")
                .addUserMessage("Say hello.").maxCompletionTokens(16).temperature(0.5).stop("END").build();
    }

    private static HttpResponseFor<StreamResponse<ChatCompletionChunk>> stream(String model) {
        return client.chat().completions().withRawResponse().createStreaming(params(model).toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
    }

    private static String text(List<ChatCompletionChunk> chunks) {
        return chunks.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
                .collect(Collectors.joining());
    }

    private static List<String> finishReasons(List<ChatCompletionChunk> chunks) {
        return chunks.stream().flatMap(c -> c.choices().stream()).flatMap(c -> c.finishReason().stream())
                .map(f -> f.asString()).toList();
    }

    private static void assertUsage(CompletionUsage usage, int prompt, int completion) {
        assertEquals(prompt, usage.promptTokens());
        assertEquals(completion, usage.completionTokens());
        assertEquals(prompt + completion, usage.totalTokens());
    }

    private static String header(HttpResponseFor<?> response, String name) {
        List<String> values = response.headers().values(name);
        return values.isEmpty() ? null : values.get(0);
    }
}
