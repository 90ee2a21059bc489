package dev.gatehouse.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On the embedded SQLite file; {@link KeyStorePostgresTest} runs the same tests on PostgreSQL. */
class KeyStoreTest {
    @TempDir
    Path dir;

    /** The store under test: the same database every time it is called within one test. */
    Database database() throws Exception {
        return Database.sqlite(dir.resolve("sub/gatehouse.db"));
    }

    /** Fails if the plaintext key was written anywhere the database keeps data. */
    void assertNotStored(String key) throws Exception {
        // the main file, the WAL and the shared memory
        try (Stream<Path> files = Files.list(dir.resolve("sub"))) {
            for (Path f : files.toList()) {
                String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(bytes.contains(key), f.toString());
                assertFalse(bytes.contains(key.substring(3)), f.toString());
            }
        }
    }

    @Test
    void aStoreFromBeforeMaxConcurrentGetsTheColumn() throws Exception {
        Database db = database();
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE api_keys (id TEXT PRIMARY KEY, key_hash " + db.bytesType() + " NOT NULL UNIQUE, "
                    + "name TEXT NOT NULL, models TEXT NOT NULL, rpm INTEGER, tpm INTEGER, max_budget_usd DOUBLE PRECISION, "
                    + "budget_period TEXT, expires_at BIGINT, created_at BIGINT NOT NULL)");
        }
        try (KeyStore keys = KeyStore.open(db)) {
            KeyStore.Created created = keys.create(new KeyStore.Spec("old", List.of(), null, null, 2, null, null, null));
            assertEquals(2, keys.find(created.key()).orElseThrow().spec().maxConcurrent());
        }
    }

    @Test
    void roundTripKeepsOnlyTheHashAndSurvivesReopen() throws Exception {
        KeyStore.Created created;
        try (KeyStore keys = KeyStore.open(database())) {
            created = keys.create(new KeyStore.Spec("team-a", List.of("m1", "m2"), 60, 1000, 4, 5.25, "30d",
                    Instant.parse("2030-01-01T00:00:00Z")));
            KeyStore.Key found = keys.find(created.key()).orElseThrow();
            assertEquals(created.id(), found.id());
            assertEquals(List.of("m1", "m2"), found.spec().models());
            assertEquals(60, found.spec().rpm());
            assertEquals(1000, found.spec().tpm());
            assertEquals(4, found.spec().maxConcurrent());
            assertEquals(5.25, found.spec().maxBudgetUsd());
            assertTrue(keys.find(created.key() + "x").isEmpty());
            assertNotStored(created.key());
        }
        try (KeyStore keys = KeyStore.open(database())) { // a restart keeps keys
            KeyStore.Key k = keys.find(created.key()).orElseThrow();
            assertEquals("team-a", k.spec().name());
            assertEquals(Instant.parse("2030-01-01T00:00:00Z"), k.spec().expiresAt());
            assertEquals("30d", k.spec().budgetPeriod());
            assertEquals(1, keys.list().size());
            assertTrue(keys.revoke(created.id()));
            assertFalse(keys.revoke(created.id()));
            assertTrue(keys.isEmpty());
            assertTrue(keys.find(created.key()).isEmpty());
        }
    }

    @Test
    void unsetLimitsStayUnset() throws Exception {
        try (KeyStore keys = KeyStore.open(database())) {
            assertTrue(keys.isEmpty());
            String key = keys.create(new KeyStore.Spec("open", List.of(), null, null, null, null, null,
                    Instant.parse("3000-01-01T00:00:00Z"))).key(); // past 2038: needs 64-bit seconds
            KeyStore.Spec spec = keys.find(key).orElseThrow().spec();
            assertEquals(List.of(), spec.models());
            assertNull(spec.rpm());
            assertNull(spec.tpm());
            assertNull(spec.maxConcurrent());
            assertNull(spec.maxBudgetUsd());
            assertNull(spec.budgetPeriod());
            assertEquals(Instant.parse("3000-01-01T00:00:00Z"), spec.expiresAt());
            assertTrue(keys.find(key).orElseThrow().allows("any-model"));
        }
    }
}
