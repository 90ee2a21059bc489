package dev.gatehouse.gateway.route;

import static dev.gatehouse.gateway.route.ToolRequests.askWeather;
import static dev.gatehouse.gateway.route.ToolRequests.calls;
import static dev.gatehouse.gateway.route.ToolRequests.json;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.gatehouse.gateway.backend.bedrock.MockBedrock;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Bedrock target spoken to with the official OpenAI SDK: gatehouse.yaml names the region and the
 * credential files, the mock Converse API checks every SigV4 signature and the translated request,
 * and a tool call makes the round trip, whole and streamed over ConverseStream's event-stream frames (toolUse out as an OpenAI tool call, its result back in as a
 * toolResult block).
 */
class BedrockToolsEndToEndTest {
    @TempDir
    static Path secrets;
    static MockBedrock bedrock;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        bedrock = new MockBedrock();
        Files.writeString(secrets.resolve("aws-secret"), MockBedrock.SECRET + "\n");
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  aws: {type: bedrock, region: %s, base-url: %s, access-key-id: %s, secret-access-key-file: %s}
                models:
                  - name: claude
                    targets: [{provider: aws, model: anthropic.claude-sonnet-4-5-20250929-v1:0}]
                """.formatted(MockBedrock.REGION, bedrock.baseUrl(), MockBedrock.KEY_ID, secrets.resolve("aws-secret")), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels none = new LocalModels();
        server = RouteTestGateway.start(none, Router.of(config, none, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        bedrock.close();
    }

    @Test
    void aToolCallMakesTheRoundTripThroughConverse() {
        ChatCompletion first = client.chat().completions().create(askWeather("claude").build());
        ChatCompletion.Choice choice = first.choices().getFirst();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        assertEquals(MockBedrock.PREAMBLE, choice.message().content().orElseThrow());
        List<ChatCompletionMessageToolCall> toolCalls = choice.message().toolCalls().orElseThrow();
        assertEquals(List.of(MockBedrock.CALL), calls(toolCalls));
        assertEquals(22, first.usage().orElseThrow().totalTokens());
        MockBedrock.Received asked = bedrock.received().getLast();
        assertEquals("/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse", asked.path());
        assertEquals(json(ToolRequests.WEATHER_SCHEMA),
                asked.body().path("toolConfig").path("tools").get(0).path("toolSpec").path("inputSchema").path("json"));

        ChatCompletionCreateParams.Builder next = askWeather("claude").addMessage(ChatCompletionAssistantMessageParam.builder()
                .content(choice.message().content().orElseThrow()).toolCalls(toolCalls).build());
        next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(toolCalls.getFirst().asFunction().id())
                .content("sunny, 21°C").build());
        ChatCompletion second = client.chat().completions().create(next.build());
        assertEquals(MockBedrock.TOOL_ANSWER, second.choices().getFirst().message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.STOP, second.choices().getFirst().finishReason());

        JsonNode messages = bedrock.received().getLast().body().path("messages");
        assertEquals(3, messages.size());
        assertEquals(MockBedrock.CALL.get(0), messages.get(1).path("content").get(1).path("toolUse").path("toolUseId").asText());
        assertEquals(json(MockBedrock.CALL.get(2)), messages.get(1).path("content").get(1).path("toolUse").path("input"));
        assertEquals("sunny, 21°C", messages.get(2).path("content").get(0).path("toolResult").path("content").get(0).path("text").asText());
    }

    @Test
    void streamedToolUseFromConverseStreamAssemblesIntoTheSameCall() {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(askWeather("claude").build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        ChatCompletion whole = accumulator.chatCompletion();
        assertEquals(List.of(MockBedrock.CALL), calls(whole.choices().getFirst().message().toolCalls().orElseThrow()));
        assertEquals(MockBedrock.PREAMBLE, whole.choices().getFirst().message().content().orElseThrow());
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, whole.choices().getFirst().finishReason());
        assertEquals("/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream", bedrock.received().getLast().path());
    }
}
