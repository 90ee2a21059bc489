package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Capabilities;
import dev.gatehouse.gateway.backend.FinishedStream;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.ContentPart;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.chat.Tool;
import dev.gatehouse.gateway.config.ModelRoute;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The router passes over a target that declares it cannot serve what a request asks for, and says why. */
class CapabilityRoutingTest {
    private static final ChatRequest.Sampling SAMPLING = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null,
            List.of(), false, 0);
    private static final Tool WEATHER = new Tool("get_weather", "Weather in a city",
            new ObjectMapper().createObjectNode().put("type", "object"), null);

    /** A provider that records what it was asked and answers "ok". */
    private static final class Fake implements Backend {
        final Capabilities capabilities;
        final List<ChatRequest> opened = new ArrayList<>();

        Fake(Capabilities capabilities) {
            this.capabilities = capabilities;
        }

        @Override
        public Capabilities capabilities() {
            return capabilities;
        }

        @Override
        public ChatStream open(ChatRequest request) {
            opened.add(request);
            return new FinishedStream(List.of(new ChatEvent.Delta(0, "ok", null), new ChatEvent.Finish(0, FinishReason.STOP)));
        }
    }

    private static Router router(Map<String, Backend> providers, String... targets) {
        List<ModelRoute.Target> list = new ArrayList<>();
        for (String t : targets) {
            list.add(ModelRoute.Target.provider(t, "m"));
        }
        return new Router(List.of(new ModelRoute("r", list, ModelRoute.DEFAULT_MAX_QUEUE_WAIT_MILLIS)), Map.of(), new LocalModels(),
                providers, Map.of(), new SplittableRandom(1), GatewayServer.newRegistry());
    }

    private static ChatRequest request(List<Message> messages, List<Tool> tools, ResponseFormat format) {
        return new ChatRequest("r", messages, null, 5, SAMPLING, 1, false, false, false, null, tools, null, null, format,
                Map.of());
    }

    private static final List<Message> HI = List.of(new Message(Message.USER, "hi"));

    @Test
    void aRequestWithToolsSkipsATextOnlyTargetAndTheHeaderSaysWhy() throws Exception {
        Fake text = new Fake(Capabilities.TEXT);
        Fake full = new Fake(Capabilities.EVERYTHING);
        Routed routed = RouteTestGateway.open(router(Map.of("text", text, "full", full), "text", "full"),
                request(HI, List.of(WEATHER), null));
        assertEquals("full:m", routed.backend());
        assertEquals(List.of("text:m (no tools)"), routed.fallbacks());
        assertEquals(0, text.opened.size());
        assertEquals(List.of(WEATHER), full.opened.getFirst().tools());
    }

    @Test
    void plainTextStillGoesToTheFirstTarget() throws Exception {
        Fake text = new Fake(Capabilities.TEXT);
        Routed routed = RouteTestGateway.open(router(Map.of("text", text, "full", new Fake(Capabilities.EVERYTHING)),
                "text", "full"), request(HI, List.of(), null));
        assertEquals("text:m", routed.backend());
        assertEquals(List.of(), routed.fallbacks());
    }

    @Test
    void withNoTargetThatCanServeItTheClientGetsA400NamingTheParam() {
        Router router = router(Map.of("a", new Fake(Capabilities.TEXT), "b", new Fake(Capabilities.TEXT)), "a", "b");
        RouteFailed tools = assertThrows(RouteFailed.class, () -> RouteTestGateway.open(router, request(HI, List.of(WEATHER), null)));
        assertEquals(400, tools.error().status());
        assertEquals("tools", tools.error().param());
        assertEquals(List.of("a:m (no tools)", "b:m (no tools)"), tools.fallbacks());

        List<Message> image = List.of(new Message(Message.USER, List.of(new ContentPart.Text("what is this?"),
                new ContentPart.Image("https://example.com/cat.png", null)), List.of(), null));
        RouteFailed images = assertThrows(RouteFailed.class, () -> RouteTestGateway.open(router, request(image, List.of(), null)));
        assertEquals("messages[0].content[1]", images.error().param());
        assertEquals(List.of("a:m (no images)", "b:m (no images)"), images.fallbacks());

        RouteFailed schema = assertThrows(RouteFailed.class, () -> RouteTestGateway.open(router, request(HI, List.of(),
                new ResponseFormat(ResponseFormat.Type.JSON_SCHEMA, "answer", null,
                        new ObjectMapper().createObjectNode().put("type", "object"), true))));
        assertEquals("response_format", schema.error().param());
    }

    @Test
    void aSingleTextOnlyTargetRefusesToolHistoryWithAnUnsupportedParameter() {
        Router router = router(Map.of("a", new Fake(Capabilities.TEXT)), "a");
        List<Message> history = List.of(new Message(Message.USER, "weather?"),
                new Message(Message.ASSISTANT, List.of(), List.of(new dev.gatehouse.gateway.chat.ToolCall("call_1",
                        "get_weather", "{}")), null),
                new Message(Message.TOOL, List.of(new ContentPart.Text("sunny")), List.of(), "call_1"));
        ApiException e = assertThrows(ApiException.class, () -> RouteTestGateway.open(router, request(history, List.of(), null)));
        assertEquals("unsupported_parameter", e.code());
        assertEquals("messages[1].tool_calls", e.param());
    }
}
