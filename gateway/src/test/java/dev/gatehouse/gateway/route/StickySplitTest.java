package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Weighted splits on a {@code sticky: true} route: each user (or key) keeps one variant on every
 * request and every replica, and over many users the variants get their weights' shares.
 */
class StickySplitTest {
    private static final String CONFIG = """
            providers:
              a: {type: openai-compatible, base-url: %s}
              b: {type: openai-compatible, base-url: %s}
            models:
              - name: chat
                sticky: %s
                targets:
                  - {provider: a, model: stable, priority: 0, weight: 9}   # one priority: the weights split it
                  - {provider: b, model: candidate, priority: 0, weight: 1}
            """;

    private static Router router(boolean sticky) {
        GatehouseConfig config = GatehouseConfig.parse(CONFIG.formatted("http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1", sticky),
                Map.of());
        return Router.of(config, new LocalModels(), GatewayServer.newRegistry());
    }

    private static final ChatRequest REQUEST = new ChatRequest("chat", List.of(new Message("user", "hi")), null, 5, null,
            1, false, false, false, null);

    private static RequestAttributes user(String user) {
        return new RequestAttributes(name -> null, null, null, null, Map.of(), user, null);
    }

    private static String first(Router router, RequestAttributes who) {
        return router.plan(REQUEST, who).targets().getFirst().label();
    }

    @Test
    void theSameUserAlwaysGetsTheSameVariantEvenFromAnotherReplica() {
        Router one = router(true);
        Router replica = router(true);
        for (int u = 0; u < 200; u++) {
            RequestAttributes who = user("user-" + u);
            String variant = first(one, who);
            for (int i = 0; i < 5; i++) {
                assertEquals(variant, first(one, who), "user-" + u + " moved");
            }
            assertEquals(variant, first(replica, who), "another Gatehouse with the same config agrees");
            assertEquals(2, one.plan(REQUEST, who).targets().size(), "the other variant is still there to fall back to");
        }
    }

    @Test
    void overManyUsersTheSplitFollowsTheWeights() {
        Router router = router(true);
        Map<String, Integer> counts = new HashMap<>();
        int users = 20_000;
        for (int u = 0; u < users; u++) {
            counts.merge(first(router, user("user-" + u)), 1, Integer::sum);
        }
        double candidate = counts.getOrDefault("b:candidate", 0) / (double) users;
        // 1 in 10 expected; 20,000 draws put 3 standard deviations at about 0.0064
        assertTrue(Math.abs(candidate - 0.1) < 0.01, "candidate share " + candidate);
    }

    @Test
    void aKeyIsTheIdentityWhenThereIsNoUserAndJwtUsersComeFirst() {
        Router router = router(true);
        Set<String> seen = new HashSet<>();
        for (int k = 0; k < 100; k++) {
            RequestAttributes key = new RequestAttributes(name -> null, "key_" + k, "name", null, Map.of(), null, null);
            String variant = first(router, key);
            assertEquals(variant, first(router, key));
            seen.add(variant);
            RequestAttributes jwt = new RequestAttributes(name -> null, null, null, "alice-" + k, Map.of(), "spoofed-" + k, null);
            assertEquals(first(router, jwt), first(router, new RequestAttributes(name -> null, null, null, "alice-" + k,
                    Map.of(), "other-" + k, null)), "a JWT user's variant ignores the body's user");
        }
        assertEquals(Set.of("a:stable", "b:candidate"), seen, "keys are split too");
    }

    @Test
    void withoutStickyOrWithoutAnIdentityEachRequestIsDrawnAfresh() {
        Set<String> notSticky = new HashSet<>();
        Set<String> anonymous = new HashSet<>();
        Router plain = router(false);
        Router sticky = router(true);
        for (int i = 0; i < 200; i++) {
            notSticky.add(first(plain, user("same-user")));
            anonymous.add(first(sticky, RequestAttributes.NONE));
        }
        assertEquals(Set.of("a:stable", "b:candidate"), notSticky);
        assertEquals(Set.of("a:stable", "b:candidate"), anonymous);
    }

    @Test
    void throughTheGatewayAUserSeesOneTargetHeader() throws Exception {
        try (MockOpenAi a = new MockOpenAi(); MockOpenAi b = new MockOpenAi()) {
            GatehouseConfig config = GatehouseConfig.parse(CONFIG.formatted(a.baseUrl(), b.baseUrl(), true), Map.of());
            PrometheusMeterRegistry registry = GatewayServer.newRegistry();
            GatewayServer server = RouteTestGateway.start(new LocalModels(), Router.of(config, new LocalModels(), registry), registry);
            OpenAIClient client = RouteTestGateway.sdk(server);
            try {
                Set<String> variants = new HashSet<>();
                for (int u = 0; u < 20; u++) {
                    Set<String> mine = new HashSet<>();
                    for (int i = 0; i < 3; i++) {
                        try (HttpResponseFor<ChatCompletion> r = client.chat().completions().withRawResponse().create(
                                ChatCompletionCreateParams.builder().model("chat").addUserMessage("hi").user("user-" + u).build())) {
                            r.parse();
                            mine.add(r.headers().values("x-gatehouse-target").getFirst());
                        }
                    }
                    assertEquals(1, mine.size(), "user-" + u + " saw " + mine);
                    variants.addAll(mine);
                }
                assertEquals(60, a.received().size() + b.received().size());
                assertTrue(variants.contains("a:stable"), variants.toString());
            } finally {
                RouteTestGateway.stop(client, server);
            }
        }
    }
}
