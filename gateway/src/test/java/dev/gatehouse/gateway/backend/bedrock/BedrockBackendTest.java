package dev.gatehouse.gateway.backend.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Providers;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.chat.ToolCall;
import dev.gatehouse.gateway.chat.ToolChoice;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BedrockBackendTest {
    static final String MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0";
    static final ObjectMapper JSON = new ObjectMapper();
    static MockBedrock mock;
    static Backend backend;

    @BeforeAll
    static void start() throws Exception {
        mock = new MockBedrock();
        backend = backend(MockBedrock.SECRET, null);
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    static Backend backend(String secret, String sessionToken) {
        return Providers.backend(new ProviderConfig("bedrock", ProviderType.BEDROCK, mock.baseUrl(), null, null, 5_000, Map.of(),
                ProviderConfig.Prices.NONE, ProviderConfig.Failures.DEFAULT,
                new ProviderConfig.Aws(MockBedrock.REGION, MockBedrock.KEY_ID, secret, sessionToken)));
    }

    static ChatRequest request(List<Message> messages, List<Tool> tools, ToolChoice choice) {
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(0.5f, 0.9f, 0, 0f, 1f, 0f, 0f, null, List.of("END"), false, 0);
        return new ChatRequest(MODEL, messages, null, 64, sampling, 1, false, false, false, null, tools, choice, null, null, Map.of());
    }

    static ChatRequest hello() {
        return request(List.of(new Message("system", "Be brief."), new Message("user", "Hi")), List.of(), null);
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

    @Test
    void aSignedConverseRequestBecomesEvents() throws Exception {
        List<ChatEvent> events = drain(backend.open(hello()));

        assertEquals(List.of(new ChatEvent.Delta(0, MockBedrock.REPLY, null), new ChatEvent.Finish(0, FinishReason.STOP),
                new ChatEvent.Usage(15, 7)), events);
        MockBedrock.Received r = mock.received().getLast();
        assertEquals("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse", r.path());
        assertTrue(r.header("Authorization").startsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "the mock checked the signature");
        JsonNode body = r.body();
        assertEquals(JSON.readTree("[{\"text\":\"Be brief.\"}]"), body.path("system"));
        assertEquals(JSON.readTree("[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]"), body.path("messages"));
        assertEquals(JSON.readTree("{\"maxTokens\":64,\"temperature\":0.5,\"topP\":0.9,\"stopSequences\":[\"END\"]}"),
                body.path("inferenceConfig"));
    }

    @Test
    void aWrongSecretFailsTheSignatureAndIsGatehousesProblem() {
        ApiException e = assertThrows(ApiException.class, () -> backend("not-the-secret", null).open(hello()));
        assertEquals(502, e.status());
        assertEquals("upstream_auth_failed", e.code());
    }

    @Test
    void withoutExplicitCredentialsTheSdksDefaultChainSigns() throws Exception {
        // the chain's first link reads the aws.accessKeyId / aws.secretAccessKey system properties
        System.setProperty("aws.accessKeyId", MockBedrock.KEY_ID);
        System.setProperty("aws.secretAccessKey", MockBedrock.SECRET);
        try {
            Backend chained = Providers.backend(new ProviderConfig("bedrock", ProviderType.BEDROCK, mock.baseUrl(), null, null,
                    5_000, Map.of(), ProviderConfig.Prices.NONE, ProviderConfig.Failures.DEFAULT,
                    new ProviderConfig.Aws(MockBedrock.REGION, null, null, null)));
            assertEquals(new ChatEvent.Delta(0, MockBedrock.REPLY, null), drain(chained.open(hello())).getFirst(),
                    "the mock checked the signature");
        } finally {
            System.clearProperty("aws.accessKeyId");
            System.clearProperty("aws.secretAccessKey");
        }
    }

    @Test
    void sessionCredentialsSendAndSignTheirToken() throws Exception {
        drain(backend(MockBedrock.SECRET, "session-token-123").open(hello()));
        MockBedrock.Received r = mock.received().getLast();
        assertEquals("session-token-123", r.header("X-Amz-Security-Token"));
        assertTrue(r.header("Authorization").contains("x-amz-security-token"));
    }

    @Test
    void toolsImagesAndToolResultsTranslateToConverseBlocks() throws Exception {
        Tool weather = new Tool("get_weather", "The weather in a city.",
                JSON.readTree("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"), null);
        List<Message> conversation = List.of(
                new Message("user", List.of(new ContentPart.Text("Weather here?"),
                        new ContentPart.Image("data:image/png;base64,iVBORw0KGgo=", null)), List.of(), null),
                new Message("assistant", List.of(), List.of(new ToolCall("tu_1", "get_weather", "{\"city\":\"Paris\"}"),
                        new ToolCall("tu_2", "get_weather", "{\"city\":\"Lyon\"}")), null),
                new Message("tool", List.of(new ContentPart.Text("sunny")), List.of(), "tu_1"),
                new Message("tool", List.of(new ContentPart.Text("rainy")), List.of(), "tu_2"));
        List<ChatEvent> events = drain(backend.open(request(conversation, List.of(weather), ToolChoice.named("get_weather"))));

        assertEquals(new ChatEvent.Delta(0, MockBedrock.TOOL_ANSWER, null), events.getFirst());
        JsonNode body = mock.received().getLast().body();
        JsonNode spec = body.path("toolConfig").path("tools").get(0).path("toolSpec");
        assertEquals("get_weather", spec.path("name").asText());
        assertEquals(weather.parameters(), spec.path("inputSchema").path("json"));
        assertEquals(JSON.readTree("{\"tool\":{\"name\":\"get_weather\"}}"), body.path("toolConfig").path("toolChoice"));
        JsonNode messages = body.path("messages");
        assertEquals(3, messages.size(), "user, assistant, and one user turn holding both results");
        assertEquals(JSON.readTree("{\"format\":\"png\",\"source\":{\"bytes\":\"iVBORw0KGgo=\"}}"),
                messages.get(0).path("content").get(1).path("image"));
        assertEquals(JSON.readTree("{\"toolUseId\":\"tu_2\",\"name\":\"get_weather\",\"input\":{\"city\":\"Lyon\"}}"),
                messages.get(1).path("content").get(1).path("toolUse"));
        assertEquals(JSON.readTree("{\"toolUseId\":\"tu_2\",\"content\":[{\"text\":\"rainy\"}]}"),
                messages.get(2).path("content").get(1).path("toolResult"));
    }

    @Test
    void toolUseComesBackAsToolCalls() throws Exception {
        Tool weather = new Tool("get_weather", null, JSON.readTree("{\"type\":\"object\"}"), null);
        List<ChatEvent> events = drain(backend.open(request(List.of(new Message("user", "Weather in Paris?")),
                List.of(weather), ToolChoice.REQUIRED)));

        assertEquals(List.of(new ChatEvent.Delta(0, MockBedrock.PREAMBLE, null),
                new ChatEvent.ToolCallStart(0, 0, MockBedrock.CALL.get(0), MockBedrock.CALL.get(1)),
                new ChatEvent.ToolCallDelta(0, 0, MockBedrock.CALL.get(2)), new ChatEvent.ToolCallEnd(0, 0),
                new ChatEvent.Finish(0, FinishReason.TOOL_CALLS), new ChatEvent.Usage(15, 7)), events);
        assertEquals(JSON.readTree("{\"any\":{}}"), mock.received().getLast().body().path("toolConfig").path("toolChoice"));
    }

    static ChatRequest streamed(ChatRequest r) {
        return new ChatRequest(r.model(), r.messages(), null, r.maxTokens(), r.sampling(), 1, false, true, false, null,
                r.tools(), r.toolChoice(), null, null, Map.of());
    }

    @Test
    void converseStreamFramesSplitAnywhereBecomeTextEventsWithUsageLast() throws Exception {
        List<ChatEvent> events = drain(backend.open(streamed(hello())));

        StringBuilder text = new StringBuilder();
        events.stream().filter(e -> e instanceof ChatEvent.Delta).forEach(e -> text.append(((ChatEvent.Delta) e).text()));
        assertEquals(MockBedrock.REPLY, text.toString());
        assertTrue(events.stream().filter(e -> e instanceof ChatEvent.Delta).count() > 1, "word by word, not one piece");
        assertEquals(new ChatEvent.Finish(0, FinishReason.STOP), events.get(events.size() - 2));
        assertEquals(new ChatEvent.Usage(15, 7), events.getLast());
        MockBedrock.Received r = mock.received().getLast();
        assertEquals("/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream", r.path());
        assertEquals("application/vnd.amazon.eventstream", r.header("Accept"));
    }

    @Test
    void streamedToolUseBecomesToolCallDeltasThatAssembleExactly() throws Exception {
        Tool weather = new Tool("get_weather", null, JSON.readTree("{\"type\":\"object\"}"), null);
        List<ChatEvent> events = drain(backend.open(streamed(request(List.of(new Message("user", "Weather in Paris?")),
                List.of(weather), ToolChoice.AUTO))));

        assertTrue(events.contains(new ChatEvent.ToolCallStart(0, 0, MockBedrock.CALL.get(0), MockBedrock.CALL.get(1))));
        StringBuilder arguments = new StringBuilder();
        events.stream().filter(e -> e instanceof ChatEvent.ToolCallDelta)
                .forEach(e -> arguments.append(((ChatEvent.ToolCallDelta) e).arguments()));
        assertEquals(MockBedrock.CALL.get(2), arguments.toString());
        assertTrue(events.stream().filter(e -> e instanceof ChatEvent.ToolCallDelta).count() > 1, "input in fragments");
        assertTrue(events.indexOf(new ChatEvent.ToolCallEnd(0, 0)) > events.indexOf(
                new ChatEvent.ToolCallStart(0, 0, MockBedrock.CALL.get(0), MockBedrock.CALL.get(1))));
        assertEquals(new ChatEvent.Finish(0, FinishReason.TOOL_CALLS), events.get(events.size() - 2));
        assertEquals(new ChatEvent.Usage(15, 7), events.getLast());
    }

    @Test
    void badFramesExceptionEventsAndCutStreamsFailTheAnswer() throws Exception {
        mock.failNext(MockBedrock.Fault.THROTTLED_IN_STREAM);
        ChatStream throttled = backend.open(streamed(hello()));
        assertEquals(new ChatEvent.Delta(0, "Hello ", null), throttled.next());
        ApiException e = assertThrows(ApiException.class, throttled::next);
        assertEquals(503, e.status());
        assertTrue(e.getMessage().contains("throttlingException"), e.getMessage());

        mock.failNext(MockBedrock.Fault.CORRUPT_FRAME);
        ApiException corrupt = assertThrows(ApiException.class, () -> drain(backend.open(streamed(hello()))));
        assertEquals(502, corrupt.status(), "a frame whose CRC fails ends the answer");
        assertEquals("upstream_bad_response", corrupt.code());
        mock.failNext(MockBedrock.Fault.CUT_MID_FRAME);
        ApiException cut = assertThrows(ApiException.class, () -> drain(backend.open(streamed(hello()))));
        assertEquals("upstream_stream_ended", cut.code());
    }

    @Test
    void stopReasonsMapOntoTheClosedSet() {
        assertEquals(FinishReason.STOP, BedrockAnswer.finishReason("end_turn"));
        assertEquals(FinishReason.STOP, BedrockAnswer.finishReason("stop_sequence"));
        assertEquals(FinishReason.LENGTH, BedrockAnswer.finishReason("max_tokens"));
        assertEquals(FinishReason.TOOL_CALLS, BedrockAnswer.finishReason("tool_use"));
        assertEquals(FinishReason.CONTENT_FILTER, BedrockAnswer.finishReason("guardrail_intervened"));
        assertEquals(FinishReason.CONTENT_FILTER, BedrockAnswer.finishReason("content_filtered"));
    }

    @Test
    void bedrockErrorsMapOntoRetryFallbackAndContextLength() {
        mock.failNext(MockBedrock.Fault.THROTTLED);
        ApiException throttled = assertThrows(ApiException.class, () -> backend.open(hello()));
        assertEquals(429, throttled.status());
        assertNotNull(throttled.retryAfterSeconds(), "a Retry-After for the client");

        mock.failNext(MockBedrock.Fault.NOT_READY);
        assertEquals(503, assertThrows(ApiException.class, () -> backend.open(hello())).status());
        mock.failNext(MockBedrock.Fault.UNAVAILABLE);
        assertEquals(503, assertThrows(ApiException.class, () -> backend.open(hello())).status());

        mock.failNext(MockBedrock.Fault.TOO_LONG);
        ApiException tooLong = assertThrows(ApiException.class, () -> backend.open(hello()));
        assertEquals(400, tooLong.status());
        assertEquals("context_length_exceeded", tooLong.code());
    }

    @Test
    void whatConverseCannotDoIsRefusedNotDropped() {
        ApiException url = assertThrows(ApiException.class, () -> backend.open(request(List.of(new Message("user",
                List.of(new ContentPart.Image("https://example.com/cat.png", null)), List.of(), null)), List.of(), null)));
        assertEquals(400, url.status());
        assertEquals("messages[0].content[0]", url.param());
        ChatRequest.Sampling seeded = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, 7L, List.of(), false, 0);
        ApiException seed = assertThrows(ApiException.class, () -> backend.open(new ChatRequest(MODEL,
                List.of(new Message("user", "Hi")), null, null, seeded, 1, false, false, false, null)));
        assertEquals("seed", seed.param());
    }
}
