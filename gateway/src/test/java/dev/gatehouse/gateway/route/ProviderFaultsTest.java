package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.errors.SseException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Each cloud provider failing the way real ones fail, seen through the router by the official OpenAI
 * SDK: error statuses with the provider's own bodies (from the mocks), and broken connections (from
 * a {@link FlakyProxy} between Gatehouse and each mock). Every route is "the provider, then a backup
 * OpenAI-compatible server", so a fallback shows as the backup answering. Mid-stream failover is off
 * on these routes, so a break after the first word shows as it reaches the client without it
 * (MidStreamFailoverTest has it on).
 */
class ProviderFaultsTest {
    private static final long TIMEOUT_MILLIS = 1_000;

    /** The provider a route tries first, and how to make it fail. */
    enum Upstream {
        OPENAI("openai-first", "openai:gpt-4o-mini"),
        ANTHROPIC("anthropic-first", "anthropic:claude-3-5-haiku-latest"),
        GEMINI("gemini-first", "gemini:gemini-2.0-flash");

        final String route;
        final String label;

        Upstream(String route, String label) {
            this.route = route;
            this.label = label;
        }

        FlakyProxy link() {
            return switch (this) {
                case OPENAI -> openaiLink;
                case ANTHROPIC -> anthropicLink;
                case GEMINI -> geminiLink;
            };
        }

        void failWithServerError() {
            switch (this) {
                case OPENAI -> openai.failNext(MockOpenAi.Fault.SERVER_ERROR);
                case ANTHROPIC -> anthropic.failNext(MockAnthropic.Fault.SERVER_ERROR);
                case GEMINI -> gemini.failNext(MockGemini.Fault.SERVER_ERROR);
            }
        }

        /** OpenAI's 429 with retry-after 20, Anthropic's rate_limit_error with retry-after 7, Gemini's RESOURCE_EXHAUSTED. */
        void failWithRateLimit() {
            switch (this) {
                case OPENAI -> openai.failNext(MockOpenAi.Fault.RATE_LIMITED);
                case ANTHROPIC -> anthropic.failNext(MockAnthropic.Fault.RATE_LIMITED);
                case GEMINI -> gemini.failNext(MockGemini.Fault.RATE_LIMITED);
            }
        }
    }

    static MockOpenAi openai;
    static MockAnthropic anthropic;
    static MockGemini gemini;
    static MockOpenAi backup;
    static FlakyProxy openaiLink;
    static FlakyProxy anthropicLink;
    static FlakyProxy geminiLink;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        openai = new MockOpenAi();
        anthropic = new MockAnthropic();
        gemini = new MockGemini();
        backup = new MockOpenAi();
        openaiLink = new FlakyProxy(openai.root());
        anthropicLink = new FlakyProxy(anthropic.baseUrl());
        geminiLink = new FlakyProxy(gemini.baseUrl());
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  openai: {type: openai, base-url: %s/v1, api-key: ${OPENAI_API_KEY}, timeout-ms: %d}
                  anthropic: {type: anthropic, base-url: %s, api-key: ${ANTHROPIC_API_KEY}, timeout-ms: %d}
                  gemini: {type: gemini, base-url: %s, api-key: ${GEMINI_API_KEY}, timeout-ms: %d}
                  backup: {type: openai-compatible, base-url: %s, api-key: ${BACKUP_KEY}}
                models:
                  - name: openai-first
                    mid-stream-failover: false
                    targets: [{provider: openai, model: gpt-4o-mini}, {provider: backup, model: backup-model}]
                  - name: anthropic-first
                    mid-stream-failover: false
                    targets: [{provider: anthropic, model: claude-3-5-haiku-latest}, {provider: backup, model: backup-model}]
                  - name: gemini-first
                    mid-stream-failover: false
                    targets: [{provider: gemini, model: gemini-2.0-flash}, {provider: backup, model: backup-model}]
                """.formatted(openaiLink.root(), TIMEOUT_MILLIS, anthropicLink.root(), TIMEOUT_MILLIS, geminiLink.root(),
                        TIMEOUT_MILLIS, backup.baseUrl()),
                Map.of("OPENAI_API_KEY", MockOpenAi.KEY, "ANTHROPIC_API_KEY", MockAnthropic.KEY,
                        "GEMINI_API_KEY", MockGemini.KEY, "BACKUP_KEY", "sk-backup-key"));
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels noLocalModels = new LocalModels();
        // breakers that never open here: each test's faults must not decide the next test's targets
        server = RouteTestGateway.start(noLocalModels, Router.of(config, noLocalModels, 1_000, 60_000, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() throws Exception {
        RouteTestGateway.stop(client, server);
        for (AutoCloseable c : List.of(openaiLink, anthropicLink, geminiLink, openai, anthropic, gemini, backup)) {
            c.close();
        }
    }

    @BeforeEach
    void clearFaults() { // a test that failed half-way leaves no fault for the next
        openai.clearFaults();
        anthropic.clearFaults();
        gemini.clearFaults();
        backup.clearFaults();
        openaiLink.clear();
        anthropicLink.clear();
        geminiLink.clear();
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void serverErrorFallsBack(Upstream upstream) {
        upstream.failWithServerError();
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params(upstream.route))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals(upstream.label + " (500)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void rateLimitFallsBackWhileStreaming(Upstream upstream) {
        upstream.failWithRateLimit();
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(upstream.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            assertEquals(MockOpenAi.REPLY, text(chunks));
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals(upstream.label + " (429)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @Test
    void overloadedAnthropicAndGeminiFallBackWhileStreaming() {
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED); // 529 overloaded_error
        gemini.failNext(MockGemini.Fault.OVERLOADED); // 503 UNAVAILABLE
        for (Upstream upstream : List.of(Upstream.ANTHROPIC, Upstream.GEMINI)) {
            try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(upstream.route);
                 StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
                assertEquals(MockOpenAi.REPLY, text(chunks), upstream.name());
                assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"), upstream.name());
                assertEquals(upstream.label + " (503)", header(response, "x-gatehouse-fallbacks"), upstream.name());
            }
        }
    }

    @Test
    void anthropicErrorEventBeforeAnyTextFallsBack() {
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED_BEFORE_TEXT); // HTTP 200, then event: error
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(Upstream.ANTHROPIC.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            assertEquals(MockOpenAi.REPLY, text(chunks));
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals(Upstream.ANTHROPIC.label + " (503)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @Test
    void anthropicErrorEventAfterTextEndsTheStreamWithAnError() {
        int backupCalls = backup.received().size();
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED_IN_STREAM);
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(Upstream.ANTHROPIC.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            StringBuilder text = new StringBuilder();
            SseException e = assertThrows(SseException.class, () -> chunks.stream().forEach(c -> append(text, c)));

            assertEquals("Hello", text.toString(), "the client keeps what it was sent");
            assertEquals("server_overloaded", e.code().orElseThrow());
            assertEquals(Upstream.ANTHROPIC.label, header(response, "x-gatehouse-backend"));
        }
        assertEquals(backupCalls, backup.received().size(), "half an answer is not restarted elsewhere");
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void upstreamThatNeverSendsItsHeadersTimesOutAndFallsBack(Upstream upstream) {
        upstream.link().silence();
        long start = System.nanoTime();
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(upstream.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            assertEquals(MockOpenAi.REPLY, text(chunks));
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals(upstream.label + " (504)", header(response, "x-gatehouse-fallbacks"));
        }
        long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(millis >= TIMEOUT_MILLIS && millis < 10 * TIMEOUT_MILLIS, "gave up after timeout-ms: " + millis + " ms");
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void connectionResetBeforeTheFirstByteFallsBackToANormalStream(Upstream upstream) {
        upstream.link().resetBeforeResponse();
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(upstream.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            List<ChatCompletionChunk> all = chunks.stream().toList();

            assertEquals(MockOpenAi.REPLY, all.stream().map(ProviderFaultsTest::text).collect(Collectors.joining()));
            assertEquals("stop", all.stream().flatMap(c -> c.choices().stream())
                    .flatMap(c -> c.finishReason().stream()).map(f -> f.asString()).findFirst().orElseThrow());
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals(upstream.label + " (502)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void connectionResetAfterTheFirstWordEndsTheStreamWithAnError(Upstream upstream) {
        int backupCalls = backup.received().size();
        upstream.link().resetAfter("Hello");
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(upstream.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            StringBuilder text = new StringBuilder();
            SseException e = assertThrows(SseException.class, () -> chunks.stream().forEach(c -> append(text, c)));

            assertEquals("Hello", text.toString(), "the first word went out before the reset");
            assertEquals("server_error", e.type().orElseThrow());
            assertEquals("upstream_unavailable", e.code().orElseThrow(), "a reset is a dropped connection");
            assertEquals(upstream.label, header(response, "x-gatehouse-backend"));
            assertEquals(null, header(response, "x-gatehouse-fallbacks"));
        }
        assertEquals(backupCalls, backup.received().size(), "half an answer is not restarted elsewhere");
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void streamThatStallsBeforeItsFirstWordFallsBack(Upstream upstream) {
        upstream.link().stallBefore("Hello"); // the headers (and Anthropic's message_start) come, then nothing
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(upstream.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            assertEquals(MockOpenAi.REPLY, text(chunks));
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals(upstream.label + " (504)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void wholeAnswerWhoseBodyStallsAfterItsHeadersFallsBack(Upstream upstream) {
        upstream.link().stallBefore("Hello"); // status line and headers, then not a byte of the JSON body
        assertTimeoutPreemptively(Duration.ofMillis(10 * TIMEOUT_MILLIS), () -> {
            try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse()
                    .create(params(upstream.route))) {
                assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
                assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
                assertEquals(upstream.label + " (504)", header(response, "x-gatehouse-fallbacks"));
            }
        });
    }

    @ParameterizedTest
    @EnumSource(Upstream.class)
    void streamThatStallsAfterItsFirstWordEndsWithATimeoutError(Upstream upstream) {
        int backupCalls = backup.received().size();
        upstream.link().stallAfter("Hello");
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = stream(upstream.route);
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            StringBuilder text = new StringBuilder();
            SseException e = assertThrows(SseException.class, () -> chunks.stream().forEach(c -> append(text, c)));

            assertEquals("Hello", text.toString());
            assertEquals("upstream_timeout", e.code().orElseThrow());
            assertEquals(upstream.label, header(response, "x-gatehouse-backend"));
        }
        assertEquals(backupCalls, backup.received().size(), "half an answer is not restarted elsewhere");
    }

    @Test
    void lastTargetsBriefRetryAfterIsWaitedOutThenRetried() {
        anthropic.failNext(MockAnthropic.Fault.RATE_LIMITED_BRIEFLY); // retry-after: 1
        long start = System.nanoTime();
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse()
                .create(params("anthropic/claude-3-5-haiku-latest"))) {
            assertEquals(MockAnthropic.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("anthropic:claude-3-5-haiku-latest", header(response, "x-gatehouse-backend"));
            assertEquals("anthropic:claude-3-5-haiku-latest (429)", header(response, "x-gatehouse-fallbacks"));
        }
        long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
        assertTrue(millis >= 950, "waited for the provider's Retry-After of 1 s, not less: " + millis + " ms");
    }

    @Test
    void lastTargetsLongRetryAfterIsPassedOnToTheClient() {
        int calls = anthropic.received().size();
        anthropic.failNext(MockAnthropic.Fault.RATE_LIMITED); // retry-after: 7, over the router's cap

        RateLimitException e = assertThrows(RateLimitException.class,
                () -> client.chat().completions().create(params("anthropic/claude-3-5-haiku-latest")));
        assertEquals("rate_limit_exceeded", e.code().orElseThrow());
        assertTrue(e.getMessage().contains("per-minute rate limit"), e.getMessage());
        assertEquals(List.of("7"), e.headers().values("retry-after"), "Anthropic's own Retry-After");
        assertEquals(calls + 1, anthropic.received().size(), "not retried: 7 s is longer than a client should be held");
    }

    private static ChatCompletionCreateParams params(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello.").maxCompletionTokens(16).build();
    }

    private static HttpResponseFor<StreamResponse<ChatCompletionChunk>> stream(String model) {
        return client.chat().completions().withRawResponse().createStreaming(params(model));
    }

    private static String text(StreamResponse<ChatCompletionChunk> chunks) {
        return chunks.stream().map(ProviderFaultsTest::text).collect(Collectors.joining());
    }

    private static String text(ChatCompletionChunk chunk) {
        return chunk.choices().stream().map(c -> c.delta().content().orElse("")).collect(Collectors.joining());
    }

    private static void append(StringBuilder text, ChatCompletionChunk chunk) {
        text.append(text(chunk));
    }

    private static String header(HttpResponseFor<?> response, String name) {
        List<String> values = response.headers().values(name);
        return values.isEmpty() ? null : values.get(0);
    }
}
