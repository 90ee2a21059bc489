package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.models.ChatModel;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.auth.JwtVerifier;
import dev.gatehouse.gateway.auth.TestJwks;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.CacheConfig;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.policy.RateLimiter;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing rules end to end: the official OpenAI SDK (and plain HTTP for the Anthropic and Responses
 * dialects) against Gatehouse, whose route {@code chat} sends a request to one of three mock
 * providers by its headers, its key, its JWT's user, groups and claims, and its user and metadata
 * fields; what the client sees is which mock answered and the x-gatehouse-route/-target headers.
 */
class RoutingRulesTest {
    private static final String MASTER = "master-key-for-rules";

    @TempDir
    static Path dir;
    static MockOpenAi us;
    static MockOpenAi eu;
    static MockOpenAi team;
    static TestJwks idp;
    static KeyStore keys;
    static String searchKey;
    static String otherKey;
    static UsageRecorder usage;
    static PrometheusMeterRegistry registry;
    static GatewayServer server;
    static OpenAIClient client;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        us = new MockOpenAi();
        eu = new MockOpenAi();
        team = new MockOpenAi();
        idp = TestJwks.start();
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        searchKey = keys.create(new KeyStore.Spec("search", List.of(), null, null, null, null, null, null)).key();
        otherKey = keys.create(new KeyStore.Spec("other", List.of(), null, null, null, null, null, null)).key();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  us:   {type: openai, base-url: %s, api-key: ${KEY}}
                  eu:   {type: openai-compatible, base-url: %s, api-key: ${KEY}}
                  team: {type: openai-compatible, base-url: %s, api-key: ${KEY}}
                models:
                  - name: chat
                    rules:
                      - name: eu
                        when: {header: {X-Region: [eu, eu-west]}}
                        targets: [{provider: eu, model: eu-model}]
                      - name: search-team
                        when: {key: search}
                        targets: [{provider: team, model: search-model}]
                      - name: beta
                        when: {group: beta}
                        targets: [{provider: team, model: beta-model}]
                      - name: gold
                        when: {claim: {tier: gold, org.plan: enterprise}}
                        targets: [{provider: team, model: gold-model}]
                      - name: carol
                        when: {jwt-user: carol}
                        targets: [{provider: team, model: carol-model}]
                      - name: bob
                        when: {user: bob}
                        targets: [{provider: team, model: bob-model}]
                      - name: acme
                        when: {metadata: {tenant: acme}, header: {x-tier: [paid]}}
                        targets: [{provider: team, model: acme-model}]
                    targets:
                      - {provider: us, model: us-model}
                """.formatted(us.baseUrl(), eu.baseUrl(), team.baseUrl()), Map.of("KEY", MockOpenAi.KEY));
        registry = GatewayServer.newRegistry();
        usage = new UsageRecorder(Pricing.of(config), UsageLog.open(dir.resolve("usage.db")), Clock.systemUTC(), registry);
        JwtVerifier jwt = JwtVerifier.of(idp.config(null, null, List.of()));
        server = GatewayServer.builder(new LocalModels(), registry).router(Router.of(config, new LocalModels(), registry))
                .auth(new ApiAuth(MASTER, keys, RateLimiter.system(), jwt)).usage(usage)
                .cache(new CacheConfig(true, Duration.ofMinutes(5), 1 << 20, true))
                .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey(MASTER)
                .maxRetries(0).timeout(Duration.ofSeconds(60)).responseValidation(true).build();
    }

    @AfterAll
    static void stop() throws Exception {
        RouteTestGateway.stop(client, server);
        for (AutoCloseable c : new AutoCloseable[] {us, eu, team, idp, keys}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static ChatCompletionCreateParams params(UnaryOperator<ChatCompletionCreateParams.Builder> extra) {
        return extra.apply(ChatCompletionCreateParams.builder().model(ChatModel.of("chat")).addUserMessage("hi")
                .maxCompletionTokens(5)).build();
    }

    /** Which mock answered with which model name, and the two headers: "mock model | route | target". */
    private static String served(OpenAIClient as, UnaryOperator<ChatCompletionCreateParams.Builder> extra) {
        Map<String, MockOpenAi> mocks = Map.of("us", us, "eu", eu, "team", team);
        Map<String, Integer> before = new java.util.HashMap<>();
        mocks.forEach((name, mock) -> before.put(name, mock.received().size()));
        try (HttpResponseFor<ChatCompletion> response = as.chat().completions().withRawResponse().create(params(extra))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().getFirst().message().content().orElseThrow());
            List<String> asked = mocks.entrySet().stream().filter(e -> e.getValue().received().size() > before.get(e.getKey()))
                    .map(e -> e.getKey() + " " + e.getValue().received().getLast().body().path("model").asText()).toList();
            assertEquals(1, asked.size(), "exactly one provider was asked: " + asked);
            return asked.getFirst() + " | " + header(response, "x-gatehouse-route") + " | " + header(response, "x-gatehouse-target");
        }
    }

    private static String header(HttpResponseFor<?> response, String name) {
        List<String> values = response.headers().values(name);
        return values.isEmpty() ? null : values.getFirst();
    }

    private static OpenAIClient withKey(String key) {
        return client.withOptions(o -> o.apiKey(key));
    }

    @Test
    void aHeaderRuleSendsTheRequestToItsTargetAndTheAnswerSaysWhichRuleAndTarget() {
        assertEquals("eu eu-model | chat:eu | eu:eu-model", served(client, b -> b.putAdditionalHeader("x-region", "eu")));
        assertEquals("eu eu-model | chat:eu | eu:eu-model", served(client, b -> b.putAdditionalHeader("X-REGION", "eu-west")),
                "header names are case-insensitive, and any listed value matches");
        assertEquals("us us-model | chat:default | us:us-model", served(client, b -> b.putAdditionalHeader("x-region", "EU")),
                "values are exact");
        assertEquals("us us-model | chat:default | us:us-model", served(client, b -> b));
    }

    @Test
    void aStreamedAnswerCarriesTheSameHeaders() {
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = client.chat().completions().withRawResponse()
                .createStreaming(params(b -> b.putAdditionalHeader("x-region", "eu")));
             StreamResponse<ChatCompletionChunk> chunks = response.parse()) {
            String text = chunks.stream().flatMap(c -> c.choices().stream()).map(c -> c.delta().content().orElse(""))
                    .reduce("", String::concat);
            assertEquals(MockOpenAi.REPLY, text);
            assertEquals("chat:eu", header(response, "x-gatehouse-route"));
            assertEquals("eu:eu-model", header(response, "x-gatehouse-target"));
        }
    }

    @Test
    void theKeysNameRoutesAndTheFirstMatchingRuleWins() {
        assertEquals("team search-model | chat:search-team | team:search-model", served(withKey(searchKey), b -> b));
        assertEquals("us us-model | chat:default | us:us-model", served(withKey(otherKey), b -> b));
        assertEquals("eu eu-model | chat:eu | eu:eu-model", served(withKey(searchKey), b -> b.putAdditionalHeader("x-region", "eu")),
                "eu comes first in the list");
    }

    @Test
    void aJwtsUserGroupsAndClaimsRoute() {
        assertEquals("team beta-model | chat:beta | team:beta-model",
                served(withKey(idp.sign(TestJwks.claims("alice").claim("groups", List.of("staff", "beta")).build())), b -> b));
        assertEquals("team gold-model | chat:gold | team:gold-model", served(withKey(idp.sign(TestJwks.claims("dave")
                .claim("tier", "gold").claim("org", Map.of("plan", "enterprise")).build())), b -> b));
        assertEquals("us us-model | chat:default | us:us-model", served(withKey(idp.sign(TestJwks.claims("erin")
                .claim("tier", "gold").claim("org", Map.of("plan", "free")).build())), b -> b), "every condition must hold");
        assertEquals("team carol-model | chat:carol | team:carol-model", served(withKey(idp.token("carol")), b -> b));
        assertEquals("us us-model | chat:default | us:us-model", served(withKey(idp.token("frank")), b -> b));
    }

    @Test
    void theRequestsUserAndMetadataRoute() {
        assertEquals("team bob-model | chat:bob | team:bob-model", served(client, b -> b.user("bob")));
        assertEquals("team acme-model | chat:acme | team:acme-model", served(client, b -> b
                .metadata(ChatCompletionCreateParams.Metadata.builder().putAdditionalProperty("tenant", JsonValue.from("acme")).build())
                .putAdditionalHeader("x-tier", "paid")));
        assertEquals("us us-model | chat:default | us:us-model", served(client, b -> b
                .metadata(ChatCompletionCreateParams.Metadata.builder().putAdditionalProperty("tenant", JsonValue.from("acme")).build())));
    }

    @Test
    void theAnthropicAndResponsesDialectsSayWhoServedThemToo() throws Exception {
        HttpResponse<String> messages = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/messages"))
                .header("x-api-key", MASTER).header("x-region", "eu").header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"model":"chat","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}""")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, messages.statusCode(), messages.body());
        assertEquals("chat:eu", messages.headers().firstValue("x-gatehouse-route").orElseThrow());
        assertEquals("eu:eu-model", messages.headers().firstValue("x-gatehouse-target").orElseThrow());

        HttpResponse<String> bob = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/messages"))
                .header("x-api-key", MASTER).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"model":"chat","max_tokens":5,"metadata":{"user_id":"bob"},"messages":[{"role":"user","content":"hi"}]}""")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, bob.statusCode(), bob.body());
        assertEquals("chat:bob", bob.headers().firstValue("x-gatehouse-route").orElseThrow(),
                "Anthropic's metadata.user_id is the request's user");

        HttpResponse<String> responses = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/responses"))
                .header("Authorization", "Bearer " + searchKey).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"model":"chat","input":"hi","stream":true}""")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, responses.statusCode(), responses.body());
        assertTrue(responses.body().contains("Hello from the cloud."), responses.body());
        assertEquals("chat:search-team", responses.headers().firstValue("x-gatehouse-route").orElseThrow());
        assertEquals("team:search-model", responses.headers().firstValue("x-gatehouse-target").orElseThrow());
    }

    @Test
    void aCachedAnswerIsOnlyReplayedWithinItsRule() {
        UnaryOperator<ChatCompletionCreateParams.Builder> greedy = b -> b.temperature(0.0).messages(List.of())
                .addUserMessage("a question only this test asks");
        try (HttpResponseFor<ChatCompletion> first = client.chat().completions().withRawResponse()
                .create(params(b -> greedy.apply(b).putAdditionalHeader("x-region", "eu")))) {
            first.parse();
            assertEquals("MISS", header(first, "x-gatehouse-cache"));
        }
        try (HttpResponseFor<ChatCompletion> again = client.chat().completions().withRawResponse()
                .create(params(b -> greedy.apply(b).putAdditionalHeader("x-region", "eu")))) {
            again.parse();
            assertEquals("HIT", header(again, "x-gatehouse-cache"));
            assertEquals("chat:eu", header(again, "x-gatehouse-route"));
            assertEquals("cache", header(again, "x-gatehouse-target"));
        }
        assertEquals("us us-model | chat:default | us:us-model", served(client, greedy),
                "the same question under another rule is asked of that rule's target (the cache is shared here)");
    }

    @Test
    void theUsageLogAndMetricsNameTheRule() throws Exception {
        served(withKey(searchKey), b -> b.putAdditionalHeader("x-region", "eu"));
        served(withKey(searchKey), b -> b);
        usage.log().flush();
        Map<String, Long> byRule = new java.util.HashMap<>();
        usage.log().summary(Instant.EPOCH, Instant.now().plusSeconds(1), UsageLog.GroupBy.RULE)
                .forEach(s -> byRule.put(s.group(), s.requests()));
        assertTrue(byRule.getOrDefault("chat:eu", 0L) >= 1, byRule.toString());
        assertTrue(byRule.getOrDefault("chat:search-team", 0L) >= 1, byRule.toString());
        HttpResponse<String> admin = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/admin/usage?group-by=rule")).header("Authorization", "Bearer " + MASTER).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, admin.statusCode(), admin.body());
        assertTrue(admin.body().contains("\"group-by\":\"rule\"") && admin.body().contains("\"rule\":\"chat:eu\""), admin.body());

        String scrape = registry.scrape();
        assertTrue(scrape.contains("gatehouse_route_requests_total{backend=\"eu\",route=\"chat\",rule=\"eu\"}"), scrape);
        assertTrue(scrape.contains("gatehouse_route_requests_total{backend=\"team\",route=\"chat\",rule=\"search-team\"}"), scrape);
    }

    @Test
    void clientValuesNeverGrowTheMetricSeries() throws Exception {
        for (int i = 0; i < 20; i++) {
            int n = i;
            served(client, b -> b.putAdditionalHeader("x-region", "region-" + n).user("user-" + n));
        }
        String scrape = registry.scrape();
        assertTrue(!scrape.contains("region-") && !scrape.contains("user-1"), "client values stay out of the labels");
    }
}
