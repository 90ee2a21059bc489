package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.cli.CliRun;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.StoreConfig;
import dev.gatehouse.gateway.store.Database;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.store.TestPostgres;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys, usage and budgets with {@code store.jdbc-url}: everything in PostgreSQL, nothing in a local file. */
class PostgresStoreApiTest {
    private static final String MASTER = "master-secret";
    /** Greedy, so every answer is the same length. */
    private static final String CHAT = "{\"model\":\"" + TestServer.MODEL
            + "\",\"max_tokens\":2,\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private static TestPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = TestPostgres.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    /** What ServeCommand does with a store: keys and usage from the same database. */
    private TestServer start(Database database, KeyStore keys) throws Exception {
        return TestServer.start(dir, (server, registry) -> server.auth(new ApiAuth(MASTER, keys))
                .usage(new UsageRecorder(UsageApiTest.DOLLAR_A_COMPLETION_TOKEN, UsageLog.open(database), Clock.systemUTC(), registry)));
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body());
    }

    @Test
    void keysSpendAndUsageSurviveARestartAndTheCliReadsThem() throws Exception {
        StoreConfig store = postgres.newStore();
        Path config = dir.resolve("gatehouse.yaml");
        Files.writeString(config, "store:\n  jdbc-url: " + store.jdbcUrl() + "\n  user: " + store.user() + "\n");
        Database database = Database.of(GatehouseConfig.load(config, Map.of()).store());
        String key;
        long cost;
        try (KeyStore keys = KeyStore.open(database); TestServer server = start(database, keys)) {
            HttpResponse<String> probe = server.send("POST", "/v1/chat/completions", CHAT, MASTER);
            assertEquals(200, probe.statusCode(), probe.body());
            cost = json(probe).path("usage").path("completion_tokens").asLong(); // dollars
            // the second request is admitted only if the most it can cost ($2) fits beside the first's cost
            HttpResponse<String> created = server.send("POST", "/admin/keys", "{\"name\":\"two-requests\","
                    + "\"max-budget-usd\":" + (cost + 2) + ",\"budget-period\":\"30d\"}", MASTER);
            assertEquals(201, created.statusCode(), created.body());
            key = json(created).path("key").asText();
            assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, key).statusCode());
            assertEquals(200, server.send("POST", "/v1/chat/completions", CHAT, key).statusCode());
            HttpResponse<String> refused = server.send("POST", "/v1/chat/completions", CHAT, key);
            assertEquals(429, refused.statusCode(), refused.body());
            assertEquals("insufficient_quota", json(refused).path("error").path("code").asText());
        }
        try (KeyStore keys = KeyStore.open(database); TestServer restarted = start(database, keys)) {
            // the key and the money it spent were read back from PostgreSQL
            assertEquals(401, restarted.send("POST", "/v1/chat/completions", CHAT, key + "x").statusCode());
            assertEquals(429, restarted.send("POST", "/v1/chat/completions", CHAT, key).statusCode());
            JsonNode listed = json(restarted.send("GET", "/admin/keys", null, MASTER)).path("data").get(0);
            assertEquals(2.0 * cost, listed.path("spend-usd").asDouble());
            JsonNode usage = json(restarted.send("GET", "/admin/usage?group-by=key", null, MASTER));
            assertTrue(usage.toString().contains(listed.path("id").asText()), usage.toString());
        }

        CliRun keysList = CliRun.run("keys", "--config", config.toString(), "list");
        assertEquals(0, keysList.code(), keysList.err());
        assertTrue(keysList.out().contains("two-requests"), keysList.out());
        CliRun usage = CliRun.run("usage", "--config", config.toString(), "--group-by", "model");
        assertEquals(0, usage.code(), usage.err());
        assertTrue(usage.out().contains(TestServer.MODEL), usage.out());
    }
}
