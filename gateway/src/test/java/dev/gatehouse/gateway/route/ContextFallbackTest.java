package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.openai.client.OpenAIClient;
import com.openai.core.http.Headers;
import com.openai.core.http.HttpResponseFor;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * After a target answers context_length_exceeded, the official OpenAI SDK's request goes on only to
 * targets whose context may be larger: a target known to be no larger is passed over as
 * "context too small" without a call; one of unknown size is still tried.
 */
class ContextFallbackTest {
    private static final String LOCAL = "tiny-llama";
    /** The local model's positions, so its engine's max model length. */
    private static final int LOCAL_CONTEXT = 64;

    @TempDir
    static Path dir;
    static MockOpenAi small;
    static MockOpenAi same;
    static MockOpenAi large;
    static MockAnthropic anthropic;
    static LocalModels models;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        small = new MockOpenAi();
        same = new MockOpenAi();
        large = new MockOpenAi();
        anthropic = new MockAnthropic();
        Path store = dir.resolve("model-store");
        TestModelFolder.llama().maxPositions(LOCAL_CONTEXT).write(store.resolve(LOCAL));
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        models = new LocalModels();
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  small: {type: openai, base-url: %s, api-key: ${OPENAI_API_KEY}}
                  same: {type: openai-compatible, base-url: %s, api-key: ${OPENAI_API_KEY}}
                  large: {type: openai-compatible, base-url: %s, api-key: ${OPENAI_API_KEY}}
                  anthropic: {type: anthropic, base-url: %s, api-key: ${ANTHROPIC_API_KEY}}
                models:
                  - name: larger
                    targets:
                      - {provider: small, model: gpt-4o-mini, context-length: 16000}
                      - {provider: same, model: same-model, context-length: 16000}
                      - {provider: large, model: large-model, context-length: 128000}
                  - name: unknown
                    targets:
                      - {provider: anthropic, model: claude-3-5-haiku-latest}
                      - {provider: small, model: gpt-4o-mini, context-length: 16000}
                      - {provider: same, model: same-model}
                  - name: none-larger
                    targets:
                      - {provider: anthropic, model: claude-3-5-haiku-latest, context-length: 200000}
                      - {provider: small, model: gpt-4o-mini, context-length: 16000}
                  - name: local-first
                    targets:
                      - {local: tiny-llama}
                      - {provider: small, model: gpt-4o-mini, context-length: %d}
                      - {provider: large, model: large-model, context-length: 128000}
                """.formatted(small.baseUrl(), same.baseUrl(), large.baseUrl(), anthropic.baseUrl(), LOCAL_CONTEXT),
                Map.of("OPENAI_API_KEY", MockOpenAi.KEY, "ANTHROPIC_API_KEY", MockAnthropic.KEY));
        server = RouteTestGateway.start(models, Router.of(config, models, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        models.close();
        small.close();
        same.close();
        large.close();
        anthropic.close();
    }

    @BeforeEach
    void clearFaults() {
        small.clearFaults(); // a test that failed half-way leaves no fault for the next
        same.clearFaults();
        large.clearFaults();
        anthropic.clearFaults();
    }

    private static ChatCompletionCreateParams params(String model, String prompt) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage(prompt).maxCompletionTokens(2).build();
    }

    private static String header(Headers headers, String name) {
        List<String> values = headers.values(name);
        return values.isEmpty() ? null : values.get(0);
    }

    @Test
    void targetNoLargerIsSkippedAndALargerOneAnswers() {
        small.failNext(MockOpenAi.Fault.BAD_REQUEST);
        int sameCalls = same.received().size();
        try (HttpResponseFor<ChatCompletion> response =
                     client.chat().completions().withRawResponse().create(params("larger", "t20 t21"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("large:large-model", header(response.headers(), "x-gatehouse-backend"));
            assertEquals("small:gpt-4o-mini (context_length_exceeded), same:same-model (context too small)",
                    header(response.headers(), "x-gatehouse-fallbacks"));
        }
        assertEquals(sameCalls, same.received().size(), "a context no larger is not asked");
    }

    @Test
    void targetsOfUnknownContextAreStillTried() {
        anthropic.failNext(MockAnthropic.Fault.PROMPT_TOO_LONG); // unknown context: any target may be larger
        small.failNext(MockOpenAi.Fault.BAD_REQUEST); // 16000 known, but the next one's is unknown
        try (HttpResponseFor<ChatCompletion> response =
                     client.chat().completions().withRawResponse().create(params("unknown", "t20 t21"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("same:same-model", header(response.headers(), "x-gatehouse-backend"));
            assertEquals("anthropic:claude-3-5-haiku-latest (context_length_exceeded), small:gpt-4o-mini (context_length_exceeded)",
                    header(response.headers(), "x-gatehouse-fallbacks"));
        }
    }

    @Test
    void noLargerTargetLeftReturnsTheContextLengthError() {
        anthropic.failNext(MockAnthropic.Fault.PROMPT_TOO_LONG);
        int smallCalls = small.received().size();

        BadRequestException e = assertThrows(BadRequestException.class,
                () -> client.chat().completions().create(params("none-larger", "t20 t21")));
        assertEquals("context_length_exceeded", e.code().orElseThrow());
        assertEquals("anthropic:claude-3-5-haiku-latest (context_length_exceeded), small:gpt-4o-mini (context too small)",
                header(e.headers(), "x-gatehouse-fallbacks"));
        assertEquals(smallCalls, small.received().size(), "a context no larger is not asked");
    }

    @Test
    void promptTooLongForTheLocalModelGoesToAProviderWithALargerContext() {
        try (HttpResponseFor<ChatCompletion> response =
                     client.chat().completions().withRawResponse().create(params("local-first", "t20 t21"))) {
            assertEquals("local:" + LOCAL, header(response.headers(), "x-gatehouse-backend"), "a short prompt fits locally");
        }
        String longPrompt = "t20 ".repeat(LOCAL_CONTEXT * 2).trim();
        int smallCalls = small.received().size();
        try (HttpResponseFor<ChatCompletion> response =
                     client.chat().completions().withRawResponse().create(params("local-first", longPrompt))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("large:large-model", header(response.headers(), "x-gatehouse-backend"));
            assertEquals("local:" + LOCAL + " (context_length_exceeded), small:gpt-4o-mini (context too small)",
                    header(response.headers(), "x-gatehouse-fallbacks"));
        }
        assertEquals(smallCalls, small.received().size(), "a context no larger than the local engine's is not asked");
    }
}
