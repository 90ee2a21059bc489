package dev.gatehouse.gateway.api.openai;

import dev.gatehouse.gateway.MovableClock;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.StoreConfig;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.Database;
import dev.gatehouse.gateway.store.HangingProxy;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.store.TestPostgres;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A PostgreSQL store that stops answering (a relay that takes every byte and returns none) while a
 * gateway serves a key it already knows, with a budget: keys, spend and usage rows all live in that
 * store, and none of them may hold up the request.
 */
class StoreOutageApiTest {
    private static final String MASTER = "master-secret";
    private static TestPostgres postgres;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = TestPostgres.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @Test
    void aKnownKeyWithABudgetIsServedPromptlyWhileTheStoreHangs() throws Exception {
        StoreConfig store = postgres.newStore();
        MovableClock clock = new MovableClock();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (MockOpenAi openai = new MockOpenAi(); HangingProxy proxy = new HangingProxy(postgres.port());
             LocalModels models = new LocalModels()) {
            // a socket timeout longer than the test: a call that reaches the database waits all through the outage
            Database database = Database.of(proxy.inFrontOf(store).withTimeouts(1_000, 60_000));
            GatehouseConfig config = GatehouseConfig.parse("""
                    providers:
                      cheap: {type: openai, base-url: %s, api-key: sk-x, retries: 0,
                              prices: {input-per-million: 0, output-per-million: 1000000}}
                    """.formatted(openai.baseUrl()), Map.of());
            PrometheusMeterRegistry registry = GatewayServer.newRegistry();
            KeyStore keys = KeyStore.open(database);
            GatewayServer server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                    .auth(new ApiAuth(MASTER, keys))
                    .usage(new UsageRecorder(Pricing.of(config), UsageLog.open(database), clock, registry))
                    .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
            String key = keys.create(new KeyStore.Spec("known", List.of(), null, null, null, 100.0, null, null)).key();
            HttpRequest chat = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                    .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + key)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"cheap/gpt-4o-mini\",\"max_tokens\":8,"
                            + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")).build();
            try {
                assertEquals(200, http.send(chat, HttpResponse.BodyHandlers.ofString()).statusCode()); // spend read
                proxy.hang();
                Thread.sleep(1_500); // the key copy falls due for reading, and the read hangs
                clock.advance(Duration.ofSeconds(6)); // so does the key's spend
                for (int i = 0; i < 5; i++) {
                    long start = System.nanoTime();
                    HttpResponse<String> r = http.send(chat, HttpResponse.BodyHandlers.ofString());
                    long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
                    assertEquals(200, r.statusCode(), r.body());
                    assertTrue(millis < 2_000, "request " + i + " took " + millis + " ms with the store hung");
                }
            } finally {
                proxy.resume();
                server.close(); // writes the usage rows that waited for the store
                keys.close();
            }
            try (UsageLog log = UsageLog.open(Database.of(store))) {
                assertEquals(6, log.summary(Instant.EPOCH, Instant.now().plusSeconds(60), UsageLog.GroupBy.KEY)
                        .getFirst().requests(), "no usage row lost to the outage");
            }
        }
    }
}
