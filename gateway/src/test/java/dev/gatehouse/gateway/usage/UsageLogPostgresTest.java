package dev.gatehouse.gateway.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gatehouse.gateway.config.StoreConfig;
import dev.gatehouse.gateway.store.Database;
import dev.gatehouse.gateway.store.TestPostgres;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link UsageLogTest}'s tests on PostgreSQL ({@code store.jdbc-url}), and the writer outliving a dropped connection. */
class UsageLogPostgresTest extends UsageLogTest {
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
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

    @Test
    void rowsWrittenAfterTheServerDroppedTheConnectionAreKept() throws Exception {
        try (UsageLog log = UsageLog.open(database())) {
            log.record(row(T0, "key_a", "chat", "local:tiny", 1, 1, 0.25, 200));
            log.flush();
            postgres.dropConnections(store); // what a PostgreSQL restart does to the writer's session
            log.record(row(T0.plusSeconds(1), "key_a", "chat", "local:tiny", 1, 1, 0.5, 200));
            log.flush();
            assertEquals(0.75, log.spent("key_a", T0));
            postgres.dropConnections(store);
            assertEquals(0.75, log.spent("key_a", T0)); // reads reconnect too
        }
    }
}
