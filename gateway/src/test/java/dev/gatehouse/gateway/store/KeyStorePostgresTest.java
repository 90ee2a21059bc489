package dev.gatehouse.gateway.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.StoreConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link KeyStoreTest}'s tests on PostgreSQL ({@code store.jdbc-url}), and surviving a dropped connection. */
class KeyStorePostgresTest extends KeyStoreTest {
    private static TestPostgres postgres;
    private StoreConfig store;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = TestPostgres.start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        postgres.close();
    }

    @BeforeEach
    void newDatabase() throws Exception {
        store = postgres.newStore();
    }

    @Override
    Database database() {
        return Database.of(store);
    }

    @Override
    void assertNotStored(String key) throws Exception {
        try (Connection c = database().connect();
             ResultSet r = c.createStatement().executeQuery("SELECT t::text, encode(key_hash, 'hex') FROM api_keys t")) {
            while (r.next()) {
                assertFalse(r.getString(1).contains(key.substring(3)), r.getString(1));
                assertEquals(64, r.getString(2).length(), "a SHA-256 in a BYTEA column");
            }
        }
    }

    @Test
    void keepsWorkingWhenTheServerDropsTheConnection() throws Exception {
        try (KeyStore keys = KeyStore.open(database())) {
            String before = keys.create(new KeyStore.Spec("before", List.of(), null, null, null, null, null, null)).key();
            postgres.dropConnections(store); // what a PostgreSQL restart or failover does to open sessions
            assertTrue(keys.find(before).isPresent());
            postgres.dropConnections(store);
            keys.create(new KeyStore.Spec("after", List.of(), null, null, null, null, null, null));
            // created in the same second: listed by random id, so compare sorted
            assertEquals(List.of("after", "before"), keys.list().stream().map(k -> k.spec().name()).sorted().toList());
        }
    }

    @Test
    void keysAsLastReadStillWorkWhileTheStoreIsDown() throws Exception {
        try (KeyStore keys = KeyStore.open(database())) {
            String key = keys.create(new KeyStore.Spec("kept", List.of(), null, null, null, null, null, null)).key();
            assertTrue(keys.find(key).isPresent());
            postgres.refuseConnections(store, true);
            try {
                Thread.sleep(1_100); // the in-memory copy is now due to be read again, and the read fails
                assertTrue(keys.find(key).isPresent(), "a PostgreSQL outage does not lock every key out");
                assertFalse(keys.find("gh-never-made").isPresent());
            } finally {
                postgres.refuseConnections(store, false);
            }
        }
    }

    @Test
    void aKnownKeyIsFoundAtOnceWhileTheDatabaseHangs() throws Exception {
        try (HangingProxy proxy = new HangingProxy(postgres.port());
             KeyStore keys = KeyStore.open(Database.of(proxy.inFrontOf(store).withTimeouts(1_000, 30_000)))) {
            String key = keys.create(new KeyStore.Spec("kept", List.of(), null, null, null, null, null, null)).key();
            assertTrue(keys.find(key).isPresent());
            proxy.hang(); // the database takes every query and never answers (for 30 s: the socket timeout)
            try {
                long until = System.nanoTime() + Duration.ofSeconds(3).toNanos(); // the copy falls due for reading, twice
                while (System.nanoTime() < until) {
                    assertTimeoutPreemptively(Duration.ofMillis(500), () -> assertTrue(keys.find(key).isPresent()),
                            "a lookup waited on the hung database");
                    assertFalse(keys.find("gh-never-made").isPresent());
                    Thread.sleep(100);
                }
            } finally {
                proxy.resume();
            }
        }
    }
}
