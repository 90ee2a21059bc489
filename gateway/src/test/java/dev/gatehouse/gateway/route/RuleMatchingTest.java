package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.ModelRoute;
import dev.gatehouse.gateway.config.RuleMatch;
import dev.gatehouse.gateway.server.GatewayServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A rule's conditions against what a request carries, including what it leaves out or sends in the wrong shape. */
class RuleMatchingTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The compiled {@code when} of a one-rule route. */
    private static RuleMatch when(String when) {
        GatehouseConfig c = GatehouseConfig.parse("""
                providers: {p: {type: openai-compatible, base-url: http://127.0.0.1:9/v1}}
                models:
                  - name: r
                    rules: [{name: x, when: %s, targets: [{provider: p, model: m}]}]
                    targets: [{provider: p, model: m}]
                """.formatted(when), Map.of());
        return c.models().getFirst().rules().getFirst().when();
    }

    private static RequestAttributes claims(Map<String, Object> claims) {
        return new RequestAttributes(name -> null, null, null, "u", claims, null, null);
    }

    @Test
    void absentOrWronglyShapedValuesNeverMatchAndNeverFail() throws Exception {
        RuleMatch m = when("{header: {x-region: eu}, metadata: {tenant: acme}, claim: {org.plan: gold}}");
        RequestAttributes nothing = RequestAttributes.NONE;
        assertFalse(RuleMatching.matches(m, nothing, null));
        RequestAttributes wrongShapes = new RequestAttributes(name -> "eu", "key_1", "k", "u",
                Map.of("org", "gold"), null, JSON.readTree("{\"tenant\":{\"nested\":\"acme\"}}"));
        assertFalse(RuleMatching.matches(m, wrongShapes, null), "a claim that is no object, metadata that is no string");
        RequestAttributes right = new RequestAttributes(name -> name.equals("x-region") ? "eu" : null, null, null, "u",
                Map.of("org", Map.of("plan", "gold")), null, JSON.readTree("{\"tenant\":\"acme\"}"));
        assertTrue(RuleMatching.matches(m, right, null));
        assertFalse(RuleMatching.matches(m, new RequestAttributes(right.headers(), null, null, "u", right.claims(), null,
                JSON.readTree("[\"acme\"]")), null), "metadata that is not an object");
    }

    @Test
    void claimsMatchScalarsAsWrittenAndListsByAnyElement() {
        RuleMatch level = when("{claim: {level: 3, admin: true}}");
        assertTrue(RuleMatching.matches(level, claims(Map.of("level", 3L, "admin", true)), null));
        assertFalse(RuleMatching.matches(level, claims(Map.of("level", 3.5, "admin", true)), null));
        RuleMatch group = when("{group: [beta, staff]}");
        assertTrue(RuleMatching.matches(group, claims(Map.of("groups", List.of("x", "staff"))), null));
        assertTrue(RuleMatching.matches(group, claims(Map.of("groups", "beta")), null), "a single group as a string");
        assertFalse(RuleMatching.matches(group, claims(Map.of("groups", List.of(Map.of("beta", 1)))), null));
        assertFalse(RuleMatching.matches(group, claims(Map.of()), null));
    }

    @Test
    void theKeyMatchesByNameOrIdAndTheVersionByTheAskedOrTheRoutesOwn() {
        RuleMatch key = when("{key: [search, key_7]}");
        assertTrue(RuleMatching.matches(key, new RequestAttributes(n -> null, "key_1", "search", null, Map.of(), null, null), null));
        assertTrue(RuleMatching.matches(key, new RequestAttributes(n -> null, "key_7", "other", null, Map.of(), null, null), null));
        assertFalse(RuleMatching.matches(key, new RequestAttributes(n -> null, "key_1", "other", null, Map.of(), null, null), null));
        RuleMatch version = when("{version: v1}");
        assertTrue(RuleMatching.matches(version, RequestAttributes.NONE, "v1"));
        assertFalse(RuleMatching.matches(version, RequestAttributes.NONE, null));
    }

    @Test
    void aRuleLeftWithoutTargetsRefusesRatherThanFallingToTheDefault() {
        GatehouseConfig c = GatehouseConfig.parse("""
                providers:
                  us: {type: openai-compatible, base-url: http://127.0.0.1:9/v1}
                  eu: {type: openai, base-url: https://eu.example/v1, api-key: ${UNSET}}
                models:
                  - name: chat
                    rules: [{name: eu, when: {header: {x-region: eu}}, targets: [{provider: eu, model: m}]}]
                    targets: [{provider: us, model: m}]
                """, Map.of());
        Router router = Router.of(c, new LocalModels(), GatewayServer.newRegistry());
        ChatRequest request = new ChatRequest("chat", List.of(new Message("user", "hi")), null, 5, null, 1, false, false,
                false, null);
        Plan plan = router.plan(request, new RequestAttributes(n -> n.equals("x-region") ? "eu" : null, null, null, null,
                Map.of(), null, null));
        assertEquals("chat:eu", plan.label());
        ApiException e = assertThrows(ApiException.class, () -> router.open(plan, request));
        assertEquals(503, e.status());
        assertEquals("backend_unavailable", e.code());
        assertEquals(ModelRoute.DEFAULT_RULE, router.plan(request, RequestAttributes.NONE).rule());
    }
}
