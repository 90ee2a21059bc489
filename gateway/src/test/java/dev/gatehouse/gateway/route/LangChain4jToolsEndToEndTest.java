package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.service.AiServices;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LangChain4j AI services as applications write them, pointed at Gatehouse by base URL only: one
 * with a {@code @Tool} method (the model calls it for two cities, LangChain4j runs it and sends the
 * results back, the model answers) and one returning a Java record through a json_schema response
 * format, each through an OpenAI, an Azure OpenAI, an Anthropic and a Gemini target.
 */
class LangChain4jToolsEndToEndTest {
    static MockOpenAi openai;
    static MockOpenAi azure;
    static MockAnthropic anthropic;
    static MockGemini gemini;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        openai = new MockOpenAi();
        azure = new MockOpenAi();
        anthropic = new MockAnthropic();
        gemini = new MockGemini();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  openai: {type: openai, base-url: %s, api-key: sk-MOCK}
                  azure: {type: azure-openai, base-url: %s, api-key: azure-MOCK, api-version: 2024-10-21}
                  claude: {type: anthropic, base-url: %s, api-key: sk-ant-MOCK}
                  gemini: {type: gemini, base-url: %s, api-key: gemini-MOCK}
                models:
                  - {name: openai, targets: [{provider: openai, model: gpt-4o-mini}]}
                  - {name: azure, targets: [{provider: azure, model: my-deployment}]}
                  - {name: anthropic, targets: [{provider: claude, model: claude-sonnet-4-5}]}
                  - {name: gemini, targets: [{provider: gemini, model: gemini-2.0-flash}]}
                """.formatted(openai.baseUrl(), azure.root(), anthropic.baseUrl(), gemini.baseUrl()), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels none = new LocalModels();
        server = RouteTestGateway.start(none, Router.of(config, none, registry), registry);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(null, server);
        openai.close();
        azure.close();
        anthropic.close();
        gemini.close();
    }

    @BeforeEach
    void forget() {
        openai.received().clear();
        azure.received().clear();
        anthropic.received().clear();
        gemini.received().clear();
    }

    interface Assistant {
        String chat(String message);
    }

    record WeatherAnswer(String city, double temperature) {}

    interface Extractor {
        WeatherAnswer weather(String message);
    }

    /** The application's tool: records what it was asked. */
    static final class WeatherTools {
        final List<String> asked = new CopyOnWriteArrayList<>();

        @Tool(name = "get_weather", value = "The current weather in a city.")
        String weather(@P(name = "city", value = "the city") String city,
                       @P(name = "unit", value = "celsius or fahrenheit", required = false) String unit) {
            asked.add(city + " " + unit);
            return city.equals("Paris") ? "sunny, 21°C" : "rainy, 14°C";
        }
    }

    private static OpenAiChatModel model(String name) {
        return OpenAiChatModel.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("any-key")
                .modelName(name).timeout(Duration.ofSeconds(60)).maxRetries(0)
                .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true).build();
    }

    private static String toolAnswer(String route) {
        return switch (route) {
            case "anthropic" -> MockAnthropic.TOOL_ANSWER;
            case "gemini" -> MockGemini.TOOL_ANSWER;
            default -> MockOpenAi.TOOL_ANSWER;
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "azure", "anthropic", "gemini"})
    void anAiServiceCallsItsToolAndAnswersWithTheResults(String route) {
        WeatherTools tools = new WeatherTools();
        Assistant assistant = AiServices.builder(Assistant.class).chatModel(model(route)).tools(tools).build();
        assertEquals(toolAnswer(route), assistant.chat("What is the weather in Paris and in Tokyo?"));
        assertEquals(List.of("Paris celsius", "Tokyo celsius"), tools.asked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"openai", "azure", "anthropic", "gemini"})
    void anAiServiceReturnsARecordThroughAJsonSchema(String route) {
        Extractor extractor = AiServices.builder(Extractor.class).chatModel(model(route)).build();
        assertEquals(new WeatherAnswer("Paris", 21), extractor.weather("How warm is Paris?"));
        JsonNode schema = switch (route) {
            case "anthropic" -> anthropic.received().getLast().body().path("tools").get(0).path("input_schema");
            case "gemini" -> gemini.received().getLast().body().path("generationConfig").path("responseSchema");
            case "azure" -> azure.received().getLast().body().path("response_format").path("json_schema").path("schema");
            default -> openai.received().getLast().body().path("response_format").path("json_schema").path("schema");
        };
        assertTrue(schema.path("properties").has("temperature"), schema.toString());
    }
}
