package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.SseException;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
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
 * Streams that break after their first word, continued on the next target, seen by the official
 * OpenAI SDK as one uninterrupted answer: the breaks come from a {@link FlakyProxy} (a reset, a
 * stall, i.e. a read timeout) or from the provider (Anthropic's error event). The mocks answer a continuation with their
 * usual reply, so the client's text is the first word followed by the next target's reply; what
 * the next target was asked (the partial answer as a prefill, or with the continuation instruction)
 * is checked on the mock.
 */
class MidStreamFailoverTest {
    private static final long TIMEOUT_MILLIS = 1_000;

    static MockAnthropic anthropic; // behind a FlakyProxy
    static MockOpenAi openai; // behind a FlakyProxy
    static MockOpenAi backup; // answers after the continuation instruction
    static MockAnthropic claude; // takes the partial answer as a prefill
    static FlakyProxy anthropicLink;
    static FlakyProxy openaiLink;
    static GatewayServer server;
    static OpenAIClient client;
    static PrometheusMeterRegistry registry;

    @BeforeAll
    static void start() throws Exception {
        anthropic = new MockAnthropic();
        openai = new MockOpenAi();
        backup = new MockOpenAi();
        claude = new MockAnthropic();
        anthropicLink = new FlakyProxy(anthropic.baseUrl());
        openaiLink = new FlakyProxy(openai.root());
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  anthropic: {type: anthropic, base-url: %s, api-key: k1, timeout-ms: %d}
                  openai: {type: openai, base-url: %s/v1, api-key: k2, timeout-ms: %d}
                  backup: {type: openai-compatible, base-url: %s}
                  claude: {type: anthropic, base-url: %s, api-key: k3}
                models:
                  - name: anthropic-then-backup
                    targets: [{provider: anthropic, model: claude-3-5-haiku-latest}, {provider: backup, model: backup-model}]
                  - name: openai-then-claude
                    targets: [{provider: openai, model: gpt-4o-mini}, {provider: claude, model: claude-sonnet-4-0}]
                  - name: no-failover
                    mid-stream-failover: false
                    targets: [{provider: anthropic, model: claude-3-5-haiku-latest}, {provider: backup, model: backup-model}]
                """.formatted(anthropicLink.root(), TIMEOUT_MILLIS, openaiLink.root(), TIMEOUT_MILLIS, backup.baseUrl(),
                        claude.baseUrl()), Map.of());
        registry = GatewayServer.newRegistry();
        LocalModels none = new LocalModels();
        server = RouteTestGateway.start(none, Router.of(config, none, 1_000, 60_000, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() throws Exception {
        RouteTestGateway.stop(client, server);
        for (AutoCloseable c : List.of(anthropicLink, openaiLink, anthropic, openai, backup, claude)) {
            c.close();
        }
    }

    @BeforeEach
    void clearFaults() {
        anthropicLink.clear();
        openaiLink.clear();
        anthropic.clearFaults();
        openai.clearFaults();
    }

    @Test
    void anErrorEventAfterTheFirstWordIsContinuedWithTheInstructionOnOneStreamWithOneFinishAndSummedUsage() {
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED_IN_STREAM); // "Hello", then event: error (overloaded)
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream("anthropic-then-backup");
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            List<ChatCompletionChunk> all = chunks.stream().toList();

            assertEquals("Hello" + MockOpenAi.REPLY, text(all), "one answer: the first word, then the backup's");
            assertEquals(List.of("stop"), finishes(all), "one finish");
            CompletionUsage usage = all.getLast().usage().orElseThrow();
            // the backup's 19 + 6, plus the broken attempt: "Hello" is 2 tokens, its prompt the backup's less those
            assertEquals(8, usage.completionTokens());
            assertEquals(19 + 17, usage.promptTokens());
            assertEquals(1, all.stream().map(ChatCompletionChunk::id).distinct().count(), "one completion id");
            assertEquals("anthropic:claude-3-5-haiku-latest", header(response, "x-gatehouse-backend"), "sent before the break");
        }
        JsonNode messages = backup.received().getLast().body().path("messages");
        assertEquals(3, messages.size(), messages.toString());
        assertEquals("assistant", messages.get(1).path("role").asText());
        assertEquals("Hello", messages.get(1).path("content").asText());
        assertEquals("user", messages.get(2).path("role").asText());
        assertEquals(Continuation.INSTRUCTION, messages.get(2).path("content").asText());
        assertTrue(registry.scrape().contains("reason=\"mid_stream\""), "counted as a fallback");
    }

    @Test
    void aConnectionResetAfterTheFirstWordIsContinued() {
        anthropicLink.resetAfter("Hello");
        try (StreamResponse<ChatCompletionChunk> chunks = client.chat().completions().createStreaming(params("anthropic-then-backup"))) {
            List<ChatCompletionChunk> all = chunks.stream().toList();
            assertEquals("Hello" + MockOpenAi.REPLY, text(all));
            assertEquals(List.of("stop"), finishes(all));
        }
    }

    @Test
    void aStallAfterTheFirstWordIsContinuedAsAPrefillWhereTheTargetTakesOne() {
        openaiLink.stallAfter("Hello");
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream("openai-then-claude");
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            List<ChatCompletionChunk> all = chunks.stream().toList();

            assertEquals("Hello" + MockAnthropic.REPLY, text(all));
            assertEquals(List.of("stop"), finishes(all));
        }
        JsonNode messages = claude.received().getLast().body().path("messages");
        assertEquals(2, messages.size(), "no instruction: Claude goes on from the prefill");
        assertEquals("assistant", messages.get(1).path("role").asText());
        assertEquals("Hello", messages.get(1).path("content").asText());
    }

    @Test
    void aToolCallInFlightEndsWithAnErrorAsBefore() {
        int backupCalls = backup.received().size();
        anthropicLink.stallAfter(MockAnthropic.CALLS.getFirst().getFirst()); // the tool_use block has started
        try (StreamResponse<ChatCompletionChunk> chunks = client.chat().completions()
                .createStreaming(ToolRequests.askWeather("anthropic-then-backup").build())) {
            SseException e = assertThrows(SseException.class, () -> chunks.stream().forEach(c -> { }));
            assertEquals("upstream_timeout", e.code().orElseThrow());
        }
        assertEquals(backupCalls, backup.received().size(), "half a tool call is not continued");
    }

    @Test
    void aRouteCanTurnItOff() {
        int backupCalls = backup.received().size();
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED_IN_STREAM);
        try (StreamResponse<ChatCompletionChunk> chunks = client.chat().completions().createStreaming(params("no-failover"))) {
            StringBuilder text = new StringBuilder();
            SseException e = assertThrows(SseException.class, () -> chunks.stream().forEach(c -> text.append(text(List.of(c)))));
            assertEquals("Hello", text.toString());
            assertEquals("server_overloaded", e.code().orElseThrow());
        }
        assertEquals(backupCalls, backup.received().size());
    }

    @Test
    void withNoTargetLeftTheBreakEndsTheStream() {
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED_IN_STREAM);
        try (StreamResponse<ChatCompletionChunk> chunks = client.chat().completions()
                .createStreaming(params("anthropic/claude-3-5-haiku-latest"))) {
            SseException e = assertThrows(SseException.class, () -> chunks.stream().forEach(c -> { }));
            assertEquals("server_overloaded", e.code().orElseThrow(), "what broke, as without failover");
        }
    }

    private static ChatCompletionCreateParams params(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello.").maxCompletionTokens(64)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
    }

    private static HttpResponseFor<StreamResponse<ChatCompletionChunk>> stream(String model) {
        return client.chat().completions().withRawResponse().createStreaming(params(model));
    }

    private static String text(List<ChatCompletionChunk> chunks) {
        return chunks.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
                .collect(Collectors.joining());
    }

    private static List<String> finishes(List<ChatCompletionChunk> chunks) {
        return chunks.stream().flatMap(c -> c.choices().stream()).flatMap(c -> c.finishReason().stream())
                .map(f -> f.asString()).toList();
    }

    private static String header(HttpResponseFor<?> response, String name) {
        List<String> values = response.headers().values(name);
        return values.isEmpty() ? null : values.get(0);
    }
}
