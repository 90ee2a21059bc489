package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's routing-rules example is a gatehouse.yaml that starts, and routes as its comments say. */
class ReadmeRoutingExampleTest {

    private static String example() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int section = readme.indexOf("### Routing rules, versions and aliases");
        int start = readme.indexOf("```yaml\n", section) + "```yaml\n".length();
        return readme.substring(start, readme.indexOf("```", start));
    }

    private static String route(Router router, String model, RequestAttributes who) {
        Plan plan = router.plan(new ChatRequest(model, List.of(new Message("user", "hi")), null, 5, null, 1, false, false,
                false, who.user()), who);
        return plan.label() + " " + plan.targets().getFirst().label();
    }

    private static RequestAttributes attributes(Map<String, String> headers, String keyName, Map<String, Object> claims,
                                                String user) {
        return new RequestAttributes(headers::get, keyName == null ? null : "key_1", keyName, claims.isEmpty() ? null : "jwt-user",
                claims, user, null);
    }

    @Test
    void theExampleStartsAndRoutesAsItsCommentsSay() throws Exception {
        GatehouseConfig config = GatehouseConfig.parse(example(), Map.of("OPENAI_API_KEY", "sk-test"));
        assertTrue(config.warnings().isEmpty(), config.warnings().toString());
        Router router = Router.of(config, new LocalModels(), GatewayServer.newRegistry());
        RequestAttributes nobody = RequestAttributes.NONE;
        assertEquals("qwen3-8b:default vllm:Qwen/Qwen3-8B-2508", route(router, "qwen3-8b", nobody));
        assertEquals("qwen3-8b:v2025-05 vllm:Qwen/Qwen3-8B-2505", route(router, "qwen3-8b@2025-05", nobody));
        assertEquals("qwen3-8b:v2025-05 vllm:Qwen/Qwen3-8B-2505", route(router, "chat-default", nobody));
        assertEquals("qwen3-8b:default vllm:Qwen/Qwen3-8B-2508", route(router, "chat-latest", nobody));
        assertEquals("qwen3-8b:eu vllm-eu:Qwen/Qwen3-8B-2508", route(router, "qwen3-8b",
                attributes(Map.of("x-region", "eu-west"), null, Map.of(), null)));
        assertEquals("qwen3-8b:search-team local:Qwen3-8B", route(router, "qwen3-8b",
                attributes(Map.of(), "search", Map.of(), null)));
        assertTrue(route(router, "qwen3-8b", attributes(Map.of(), null, Map.of("groups", List.of("beta"), "tier", "gold",
                "realm_access", Map.of("roles", List.of("llm-beta"))), null)).startsWith("qwen3-8b:beta-testers "));
        assertEquals("qwen3-8b:default vllm:Qwen/Qwen3-8B-2508", route(router, "qwen3-8b",
                attributes(Map.of(), null, Map.of("groups", List.of("beta"), "tier", "silver"), null)));
        assertEquals(List.of("qwen3-8b", "qwen3-8b@2025-08", "qwen3-8b@2025-05", "chat-default", "chat-latest"),
                router.routeNames());
    }
}
