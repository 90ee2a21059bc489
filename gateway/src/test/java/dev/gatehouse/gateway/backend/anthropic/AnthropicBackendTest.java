package dev.gatehouse.gateway.backend.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Providers;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;
import dev.gatehouse.gateway.chat.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AnthropicBackendTest {
    static MockAnthropic mock;
    static Backend backend;

    @BeforeAll
    static void start() throws Exception {
        mock = new MockAnthropic();
        backend = Providers.backend(new ProviderConfig("claude", ProviderType.ANTHROPIC, mock.baseUrl(), MockAnthropic.KEY,
                null, 5_000, Map.of(), ProviderConfig.Prices.NONE));
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    @BeforeEach
    void clearFaults() {
        mock.clearFaults();
    }

    static ChatRequest request(boolean stream, Integer maxTokens, float temperature) {
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(temperature, 1f, 0, 0f, 1f, 0f, 0f, null, List.of("END"), false, 0);
        return new ChatRequest("claude-3-5-haiku-latest", List.of(new Message("system", "Be brief."),
                new Message("system", "Answer in English."), new Message("user", "Hi")),
                null, maxTokens, sampling, 1, false, stream, false, "u-1");
    }

    static List<ChatEvent> drain(ChatStream stream) throws InterruptedException {
        List<ChatEvent> events = new ArrayList<>();
        try (stream) {
            for (ChatEvent e; (e = stream.next()) != null; ) {
                events.add(e);
            }
        }
        return events;
    }

    static String text(List<ChatEvent> events) {
        StringBuilder s = new StringBuilder();
        events.stream().filter(e -> e instanceof ChatEvent.Delta).forEach(e -> s.append(((ChatEvent.Delta) e).text()));
        return s.toString();
    }

    @Test
    void sendsAMessagesRequest() throws Exception {
        drain(backend.open(request(false, null, 0.5f)));

        MockAnthropic.Received r = mock.received().getLast();
        assertEquals(MockAnthropic.KEY, r.header("x-api-key"));
        assertEquals("2023-06-01", r.header("anthropic-version"));
        assertEquals(null, r.header("Authorization"));
        JsonNode body = r.body();
        assertEquals("claude-3-5-haiku-latest", body.path("model").asText());
        assertEquals("Be brief.\n\nAnswer in English.", body.path("system").asText(), "system messages go top-level");
        assertEquals(1, body.path("messages").size());
        assertEquals("user", body.path("messages").get(0).path("role").asText());
        assertEquals(AnthropicRequestTranslator.DEFAULT_MAX_TOKENS, body.path("max_tokens").asInt(), "required by Anthropic");
        assertEquals("END", body.path("stop_sequences").get(0).asText());
        assertEquals(0.5, body.path("temperature").asDouble());
        assertEquals("u-1", body.path("metadata").path("user_id").asText());
    }

    @Test
    void wholeMessageBecomesEvents() throws Exception {
        List<ChatEvent> events = drain(backend.open(request(false, 20, 1f)));

        assertEquals(List.of(new ChatEvent.Delta(0, MockAnthropic.REPLY, null), new ChatEvent.Finish(0, FinishReason.STOP),
                new ChatEvent.Usage(12, 6)), events);
    }

    @Test
    void streamBecomesEventsWithUsageLast() throws Exception {
        List<ChatEvent> events = drain(backend.open(request(true, 20, 1f)));

        assertEquals(MockAnthropic.REPLY, text(events));
        assertEquals(new ChatEvent.Finish(0, FinishReason.STOP), events.get(events.size() - 2));
        assertEquals(new ChatEvent.Usage(12, 6), events.getLast());
    }

    @Test
    void stopReasonsMapOntoTheClosedSet() {
        assertEquals(FinishReason.LENGTH, AnthropicEventTranslator.finishReason("max_tokens", false));
        assertEquals(FinishReason.STOP, AnthropicEventTranslator.finishReason("stop_sequence", false));
        assertEquals(FinishReason.STOP, AnthropicEventTranslator.finishReason("end_turn", false));
        assertEquals(FinishReason.TOOL_CALLS, AnthropicEventTranslator.finishReason("tool_use", false));
        assertEquals(FinishReason.CONTENT_FILTER, AnthropicEventTranslator.finishReason("refusal", false));
        assertEquals(FinishReason.STOP, AnthropicEventTranslator.finishReason("tool_use", true), "the forced format tool");
    }

    @Test
    void overloadedIs503AndRateLimitKeepsRetryAfter() {
        mock.failNext(MockAnthropic.Fault.OVERLOADED, MockAnthropic.Fault.RATE_LIMITED);

        ApiException overloaded = assertThrows(ApiException.class, () -> backend.open(request(false, 20, 1f)));
        assertEquals(503, overloaded.status(), "OpenAI's clients know no 529");
        ApiException limited = assertThrows(ApiException.class, () -> backend.open(request(true, 20, 1f)));
        assertEquals(429, limited.status());
        assertEquals(7, limited.retryAfterSeconds());
    }

    @Test
    void clientErrorKeepsItsStatusAndMessage() {
        mock.failNext(MockAnthropic.Fault.BAD_REQUEST);

        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(false, 20, 1f)));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().startsWith("messages: roles must alternate"), e.getMessage());
    }

    @Test
    void overloadedErrorEventEndsTheStream() throws Exception {
        mock.failNext(MockAnthropic.Fault.OVERLOADED_IN_STREAM);
        ChatStream stream = backend.open(request(true, 20, 1f));

        assertEquals(new ChatEvent.Delta(0, "Hello", null), stream.next());
        assertEquals(503, assertThrows(ApiException.class, stream::next).status());
    }

    @Test
    void whatMessagesCannotDoIsRefusedNotDropped() {
        int before = mock.received().size();

        ApiException hot = assertThrows(ApiException.class, () -> backend.open(request(false, 20, 1.5f)));
        assertEquals("temperature", hot.param());
        ChatRequest.Sampling seeded = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, 42L, List.of(), false, 0);
        ApiException seed = assertThrows(ApiException.class, () -> backend.open(new ChatRequest("m",
                List.of(new Message("user", "hi")), null, 5, seeded, 1, false, false, false, null)));
        assertEquals("seed", seed.param());
        assertTrue(hot.isUnsupported() && seed.isUnsupported(), "the router may try a target that can: " + seed.code());
        assertEquals(before, mock.received().size(), "refused before anything is sent");
        assertFalse(hot.getMessage().contains(MockAnthropic.KEY));
    }

    @Test
    void promptTooLongIsAContextLengthError() {
        mock.failNext(MockAnthropic.Fault.PROMPT_TOO_LONG);

        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(false, 20, 1f)));
        assertEquals(400, e.status());
        assertEquals("context_length_exceeded", e.code(), "OpenAI's code, which the router moves on for");
        assertEquals("messages", e.param());
        assertTrue(e.getMessage().startsWith("prompt is too long: 208656 tokens > 200000 maximum"), e.getMessage());
    }
}
