package dev.gatehouse.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KeyStoreTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsOnlyTheHashAndSurvivesReopen() throws Exception {
        Path db = dir.resolve("sub/gatehouse.db");
        KeyStore.Created created;
        try (KeyStore keys = KeyStore.open(db)) {
            created = keys.create(new KeyStore.Spec("team-a", List.of("m1", "m2"), 60, 1000, 4, 5.0, "30d",
                    Instant.parse("2030-01-01T00:00:00Z")));
            KeyStore.Key found = keys.find(created.key()).orElseThrow();
            assertEquals(created.id(), found.id());
            assertEquals(List.of("m1", "m2"), found.spec().models());
            assertEquals(60, found.spec().rpm());
            assertTrue(keys.find(created.key() + "x").isEmpty());
            // the plaintext key is in no file SQLite wrote (main file, WAL, shared memory)
            try (Stream<Path> files = Files.list(db.getParent())) {
                for (Path f : files.toList()) {
                    String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    assertFalse(bytes.contains(created.key()), f.toString());
                    assertFalse(bytes.contains(created.key().substring(3)), f.toString());
                }
            }
        }
        try (KeyStore keys = KeyStore.open(db)) { // a restart keeps keys
            KeyStore.Key k = keys.find(created.key()).orElseThrow();
            assertEquals("team-a", k.spec().name());
            assertEquals(Instant.parse("2030-01-01T00:00:00Z"), k.spec().expiresAt());
            assertEquals(1, keys.list().size());
            assertTrue(keys.revoke(created.id()));
            assertFalse(keys.revoke(created.id()));
            assertTrue(keys.isEmpty());
            assertTrue(keys.find(created.key()).isEmpty());
        }
    }

    @Test
    void walMode() throws Exception {
        try (KeyStore keys = KeyStore.open(dir.resolve("g.db"));
             var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("g.db"));
             var r = c.createStatement().executeQuery("PRAGMA journal_mode")) {
            r.next();
            assertEquals("wal", r.getString(1));
        }
    }
}
