package dev.gatehouse.gateway.route;

import static dev.gatehouse.gateway.route.ToolRequests.askWeather;
import static dev.gatehouse.gateway.route.ToolRequests.calls;
import static dev.gatehouse.gateway.route.ToolRequests.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tools, images and structured output through an Anthropic target, spoken to with the official
 * OpenAI SDK: the mock Messages API asserts the translated request (tools with input_schema,
 * tool_choice, tool_use and merged tool_result blocks, image sources, the forced format tool), and
 * its tool_use blocks come back as OpenAI tool calls, whole and streamed.
 */
class AnthropicToolsEndToEndTest {
    static MockAnthropic anthropic;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        anthropic = new MockAnthropic();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  claude: {type: anthropic, base-url: %s, api-key: sk-ant-MOCK}
                models:
                  - name: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                """.formatted(anthropic.baseUrl()), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels none = new LocalModels();
        server = RouteTestGateway.start(none, Router.of(config, none, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        anthropic.close();
    }

    private static JsonNode lastRequest() {
        return anthropic.received().getLast().body();
    }

    @Test
    void toolsGoAsInputSchemasAndToolUseComesBackAsToolCalls() {
        ChatCompletion c = client.chat().completions().create(askWeather("claude")
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).parallelToolCalls(false).build());
        ChatCompletion.Choice choice = c.choices().getFirst();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        assertEquals(MockAnthropic.PREAMBLE, choice.message().content().orElseThrow());
        assertEquals(MockAnthropic.CALLS, calls(choice.message().toolCalls().orElseThrow()));

        JsonNode tool = lastRequest().path("tools").get(0);
        assertEquals("get_weather", tool.path("name").asText());
        assertEquals("The current weather in a city.", tool.path("description").asText());
        assertEquals(json(ToolRequests.WEATHER_SCHEMA), tool.path("input_schema"));
        assertEquals("any", lastRequest().path("tool_choice").path("type").asText());
        assertTrue(lastRequest().path("tool_choice").path("disable_parallel_tool_use").asBoolean());
    }

    @Test
    void toolChoiceNamedAndNone() {
        client.chat().completions().create(askWeather("claude").toolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name("get_weather").build()).build()).build());
        assertEquals(json("{\"type\":\"tool\",\"name\":\"get_weather\"}"), lastRequest().path("tool_choice"));
        client.chat().completions().create(askWeather("claude").toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).build());
        assertEquals(json("{\"type\":\"none\"}"), lastRequest().path("tool_choice"));
    }

    @Test
    void streamedToolUseBecomesToolCallDeltasThatAssembleExactly() {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(askWeather("claude").build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        ChatCompletion whole = accumulator.chatCompletion();
        assertEquals(MockAnthropic.CALLS, calls(whole.choices().getFirst().message().toolCalls().orElseThrow()));
        assertEquals(MockAnthropic.PREAMBLE, whole.choices().getFirst().message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, whole.choices().getFirst().finishReason());
    }

    @Test
    void aToolConversationSendsToolUseAndOneUserTurnOfResults() {
        ChatCompletion first = client.chat().completions().create(askWeather("claude").build());
        List<ChatCompletionMessageToolCall> toolCalls = first.choices().getFirst().message().toolCalls().orElseThrow();
        ChatCompletionCreateParams.Builder next = askWeather("claude").addMessage(ChatCompletionAssistantMessageParam.builder()
                .content(first.choices().getFirst().message().content().orElseThrow()).toolCalls(toolCalls).build());
        for (ChatCompletionMessageToolCall call : toolCalls) {
            next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.asFunction().id())
                    .content(call.asFunction().function().arguments().contains("Paris") ? "sunny, 21°C" : "rainy, 14°C").build());
        }
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(next.build())) {
            ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
            stream.stream().forEach(accumulator::accumulate);
            assertEquals(MockAnthropic.TOOL_ANSWER, accumulator.chatCompletion().choices().getFirst().message().content().orElseThrow());
        }
        JsonNode messages = lastRequest().path("messages");
        assertEquals(3, messages.size(), "user, assistant, and one user turn holding both results");
        JsonNode assistant = messages.get(1).path("content");
        assertEquals("text", assistant.get(0).path("type").asText());
        assertEquals("tool_use", assistant.get(1).path("type").asText());
        assertEquals(MockAnthropic.CALLS.get(0).get(0), assistant.get(1).path("id").asText());
        assertEquals(json(MockAnthropic.CALLS.get(0).get(2)), assistant.get(1).path("input"));
        JsonNode results = messages.get(2).path("content");
        assertEquals("user", messages.get(2).path("role").asText());
        assertEquals(2, results.size());
        assertEquals("tool_result", results.get(1).path("type").asText());
        assertEquals(MockAnthropic.CALLS.get(1).get(0), results.get(1).path("tool_use_id").asText());
        assertEquals("rainy, 14°C", results.get(1).path("content").asText());
    }

    @Test
    void imagesBecomeBase64AndUrlSources() {
        client.chat().completions().create(ChatCompletionCreateParams.builder().model("claude")
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("Compare them.").build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url(ToolRequests.DATA_URI).build()).build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url("https://example.com/b.jpg").build()).build())))
                .build());
        JsonNode content = lastRequest().path("messages").get(0).path("content");
        assertEquals("Compare them.", content.get(0).path("text").asText());
        JsonNode base64 = content.get(1).path("source");
        assertEquals("image", content.get(1).path("type").asText());
        assertEquals("base64", base64.path("type").asText());
        assertEquals("image/png", base64.path("media_type").asText());
        assertEquals(ToolRequests.DATA_URI.substring(ToolRequests.DATA_URI.indexOf(',') + 1), base64.path("data").asText());
        assertEquals(json("{\"type\":\"url\",\"url\":\"https://example.com/b.jpg\"}"), content.get(2).path("source"));
    }

    @Test
    void aJsonSchemaIsAForcedToolWhoseInputBecomesTheAnswer() {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model("claude")
                .addUserMessage("How warm is Paris?").responseFormat(ToolRequests.answerFormat()).build();
        ChatCompletion whole = client.chat().completions().create(params);
        assertEquals(json(MockAnthropic.FORMAT_INPUT), json(whole.choices().getFirst().message().content().orElseThrow()));
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, whole.choices().getFirst().finishReason());
        assertFalse(whole.choices().getFirst().message().toolCalls().isPresent(), "the forced tool is not a tool call");
        JsonNode sent = lastRequest();
        assertEquals("weather_answer", sent.path("tools").get(0).path("name").asText());
        assertEquals(json(ToolRequests.ANSWER_SCHEMA), sent.path("tools").get(0).path("input_schema"));
        assertEquals(json("{\"type\":\"tool\",\"name\":\"weather_answer\"}"), sent.path("tool_choice"));

        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(accumulator::accumulate);
        }
        ChatCompletion streamed = accumulator.chatCompletion();
        assertEquals(MockAnthropic.FORMAT_INPUT, streamed.choices().getFirst().message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, streamed.choices().getFirst().finishReason());
    }
}
