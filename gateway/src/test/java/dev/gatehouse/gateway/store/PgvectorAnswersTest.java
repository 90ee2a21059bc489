package dev.gatehouse.gateway.store;

import dev.gatehouse.gateway.MovableClock;
import dev.gatehouse.gateway.cache.SemanticAnswers;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The semantic cache's answers in a real PostgreSQL with pgvector (PGlite, see {@link TestPgvector}). */
class PgvectorAnswersTest {
    private static final float[] FRANCE = unit(1, 0.1f, 0);
    private static final float[] FRANCE_AGAIN = unit(1, 0, 0.1f); // cosine ~0.99 with FRANCE
    private static final float[] BREAD = unit(0, 1, 0);
    private static final List<ChatEvent> PARIS = List.of(new ChatEvent.Delta(0, "Paris.", null), new ChatEvent.Finish(0, FinishReason.STOP));

    @TempDir
    static Path dir;
    static TestPgvector postgres;
    private final MovableClock clock = new MovableClock(Instant.parse("2026-12-03T12:00:00Z"));

    @BeforeAll
    static void start() throws Exception {
        postgres = TestPgvector.start(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @BeforeEach
    void emptyTables() throws SQLException {
        try (Connection c = Database.of(postgres.store()).connect(); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS gatehouse_semantic_answers_3");
        }
    }

    private PgvectorAnswers answers(int maxEntries) {
        return PgvectorAnswers.open(Database.of(postgres.store()), new SemanticCacheConfig(List.of("m"), "e", 0.95,
                Duration.ofMinutes(5), maxEntries, false, false, false), clock);
    }

    @Test
    void aSimilarMessageFindsTheAnswerAndAnotherOnlyItsSimilarity() {
        PgvectorAnswers answers = answers(100);
        assertNull(answers.nearest(FRANCE, 1, 0.95), "nothing stored yet");

        answers.add(FRANCE, 1, PARIS);
        SemanticAnswers.Nearest similar = answers.nearest(FRANCE_AGAIN, 1, 0.95);
        SemanticAnswers.Nearest unrelated = answers.nearest(BREAD, 1, 0.95);

        assertTrue(similar.similarity() > 0.98 && similar.similarity() <= 1.0001, "similarity " + similar.similarity());
        assertEquals(PARIS, similar.answer());
        assertTrue(unrelated.similarity() < 0.2, "similarity " + unrelated.similarity());
        assertNull(unrelated.answer(), "below the threshold: no answer");
        assertNull(answers.nearest(FRANCE, 2, 0.95), "another context (caller, conversation) sees nothing");
    }

    @Test
    void answersExpireAfterTheTtl() {
        PgvectorAnswers answers = answers(100);
        answers.add(FRANCE, 1, PARIS);
        clock.advance(Duration.ofMinutes(4));
        assertNotNull(answers.nearest(FRANCE, 1, 0.95));

        clock.advance(Duration.ofMinutes(2));

        assertNull(answers.nearest(FRANCE, 1, 0.95), "past the ttl");
        answers.add(BREAD, 1, PARIS); // a store deletes what expired
        assertEquals(1, rows());
    }

    @Test
    void theOldestAnswersMakeRoomBeyondMaxEntries() throws Exception {
        PgvectorAnswers answers = answers(3);
        answers.add(FRANCE, 1, PARIS);
        for (int i = 0; i < 4; i++) {
            answers.add(BREAD, 10 + i, PARIS);
        }

        assertEquals(3, rows());
        assertNull(answers.nearest(FRANCE, 1, 0.95), "the oldest went first");
        assertNotNull(answers.nearest(BREAD, 13, 0.95).answer());
    }

    @Test
    void twoInstancesOnOneDatabaseShareTheirAnswers() {
        PgvectorAnswers one = answers(100);
        PgvectorAnswers other = answers(100);

        one.add(FRANCE, 1, PARIS);

        assertEquals(PARIS, other.nearest(FRANCE_AGAIN, 1, 0.95).answer());
    }

    @Test
    void anOutageIsAMissAndTheCacheWorksAgainAfterIt() throws Exception {
        PgvectorAnswers answers = answers(100);
        answers.add(FRANCE, 1, PARIS);
        postgres.kill();
        try {
            assertNull(answers.nearest(FRANCE, 1, 0.95), "down: a miss, not an error");
            answers.add(FRANCE, 1, PARIS); // nothing stored, nothing thrown
        } finally {
            postgres.restart(); // empty, on the same port
        }
        Thread.sleep(1100); // it tries again a second after the last failure

        assertNull(answers.nearest(FRANCE, 1, 0.95), "the table is made again, empty");
        answers.add(FRANCE, 1, PARIS);
        assertEquals(PARIS, answers.nearest(FRANCE_AGAIN, 1, 0.95).answer());
    }

    private static long rows() {
        try (Connection c = Database.of(postgres.store()).connect(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM gatehouse_semantic_answers_3")) {
            r.next();
            return r.getLong(1);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    private static float[] unit(float... v) {
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) (v[i] / Math.sqrt(norm));
        }
        return out;
    }

}
