package dev.gatehouse.gateway.cache;

import dev.gatehouse.gateway.MovableClock;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.api.openai.TestServer;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import dev.gatehouse.gateway.store.Database;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.store.PgvectorAnswers;
import dev.gatehouse.gateway.store.TestPgvector;
import dev.gatehouse.serving.embed.AllMiniLmL6V2;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The semantic cache with a PostgreSQL store, through the API: two Gatehouse instances keep their answers
 * in one real PostgreSQL with pgvector (PGlite, see {@link TestPgvector}), comparing messages with the real
 * built-in all-MiniLM-L6-v2.
 */
class SemanticCachePgvectorApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MASTER = "sk-master";
    private static final Duration TTL = Duration.ofMinutes(5);

    @TempDir
    static Path dir;
    static TestPgvector postgres;
    static KeyStore keys;
    static String alice;
    static String bob;
    static final MovableClock clock = new MovableClock();
    static TestServer one;
    static TestServer other;

    @BeforeAll
    static void start() throws Exception {
        postgres = TestPgvector.start(dir);
        keys = KeyStore.open(dir.resolve("keys.db"));
        alice = keys.create(new KeyStore.Spec("alice", List.of(), null, null, null, null, null, null)).key();
        bob = keys.create(new KeyStore.Spec("bob", List.of(), null, null, null, null, null, null)).key();
        one = instance("one", 1000);
        other = instance("other", 1000);
    }

    /** A Gatehouse instance keeping its semantic cache in the test's PostgreSQL. */
    private static TestServer instance(String name, int maxEntries) throws IOException {
        SemanticCacheConfig config = new SemanticCacheConfig(List.of(TestServer.MODEL), AllMiniLmL6V2.NAME, 0.9, TTL,
                maxEntries, false, false, false);
        PgvectorAnswers answers = PgvectorAnswers.open(Database.of(postgres.store()), config, clock);
        return TestServer.start(dir.resolve(name), (s, registry) -> s.auth(new ApiAuth(MASTER, keys))
                .semanticCache(config).semanticAnswers(answers));
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {one, other, keys, postgres}) {
            if (c != null) {
                c.close();
            }
        }
    }

    @BeforeEach
    void emptyCache() throws SQLException {
        try (Connection c = Database.of(postgres.store()).connect(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT to_regclass('gatehouse_semantic_answers_384') IS NOT NULL")) {
            r.next();
            if (r.getBoolean(1)) {
                s.execute("TRUNCATE gatehouse_semantic_answers_384");
            }
        }
    }

    private static HttpResponse<String> ask(TestServer server, String key, String question) throws Exception {
        return server.send("POST", "/v1/chat/completions", JSON.writeValueAsString(Map.of("model", TestServer.MODEL,
                "max_tokens", 8, "temperature", 0, "messages", List.of(Map.of("role", "user", "content", question)))), key);
    }

    private static String cache(HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        return r.headers().firstValue("x-gatehouse-cache").orElse("");
    }

    private static String content(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("choices").path(0).path("message").path("content").asText();
    }

    @Test
    void aQuestionAnsweredByOneInstanceServesARephrasingAtTheOther() throws Exception {
        HttpResponse<String> first = ask(one, alice, "What is the capital city of France?");
        HttpResponse<String> rephrased = ask(other, alice, "What's the capital of France?");
        HttpResponse<String> unrelated = ask(other, alice, "Give me a recipe for sourdough bread.");

        assertNotEquals("SEMANTIC-HIT", cache(first));
        assertEquals("SEMANTIC-HIT", cache(rephrased), rephrased.body());
        double similarity = Double.parseDouble(rephrased.headers().firstValue("x-gatehouse-cache-similarity").orElseThrow());
        assertTrue(similarity >= 0.9 && similarity <= 1.0001, "similarity " + similarity);
        assertEquals("cache", rephrased.headers().firstValue("x-gatehouse-backend").orElse(null));
        assertEquals(content(first), content(rephrased), "the first answer, replayed");
        assertNotEquals("SEMANTIC-HIT", cache(unrelated));
    }

    @Test
    void oneKeysAnswersDoNotServeAnotherKey() throws Exception {
        ask(one, alice, "How many legs does a spider have?");

        assertNotEquals("SEMANTIC-HIT", cache(ask(other, bob, "How many legs does a spider have?")), "bob's own question");
        assertEquals("SEMANTIC-HIT", cache(ask(other, alice, "How many legs do spiders have?")));
    }

    @Test
    void answersExpireAfterTheTtl() throws Exception {
        ask(one, alice, "What is the boiling point of water?");
        clock.advance(TTL.plusSeconds(1));

        assertNotEquals("SEMANTIC-HIT", cache(ask(other, alice, "At what temperature does water boil?")));
    }

    @Test
    void theOldestAnswersMakeRoomBeyondMaxEntries() throws Exception {
        try (TestServer small = instance("small", 2)) {
            ask(small, alice, "What is the capital city of France?");
            ask(small, alice, "How many legs does a spider have?");
            ask(small, alice, "Give me a recipe for sourdough bread.");

            assertEquals("SEMANTIC-HIT", cache(ask(small, alice, "How many legs do spiders have?")));
            assertNotEquals("SEMANTIC-HIT", cache(ask(small, alice, "What's the capital of France?")), "the oldest went");
        }
    }

    @Test
    void whilePostgresIsDownRequestsAreAnsweredWithoutTheCache() throws Exception {
        ask(one, alice, "Who wrote Hamlet?");
        postgres.kill();
        try {
            HttpResponse<String> during = ask(one, alice, "Who is the author of Hamlet?");
            assertNotEquals("SEMANTIC-HIT", cache(during), "a miss, answered by the model");
            assertEquals("local:" + TestServer.MODEL, during.headers().firstValue("x-gatehouse-backend").orElse(null));
        } finally {
            postgres.restart(); // empty, on the same port
        }
        Thread.sleep(1100); // an instance tries the database again a second after its last failure

        ask(one, alice, "Who wrote Hamlet?");
        assertEquals("SEMANTIC-HIT", cache(ask(other, alice, "Who is the author of Hamlet?")));
    }

}
