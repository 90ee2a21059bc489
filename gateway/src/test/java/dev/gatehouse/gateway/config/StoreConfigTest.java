package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StoreConfigTest {
    private static StoreConfig store(String yaml, Map<String, String> env) {
        return GatehouseConfig.parse(yaml, env).store();
    }

    @Test
    void sqliteByDefaultOrAtStorePath() {
        assertEquals(StoreConfig.DEFAULT, store("local: {}", Map.of()));
        assertEquals(Path.of("data", "gatehouse.db"), StoreConfig.DEFAULT.path());
        assertFalse(StoreConfig.DEFAULT.postgres());
        StoreConfig file = store("store: {path: /var/lib/gatehouse/g.db}", Map.of());
        assertEquals(Path.of("/var/lib/gatehouse/g.db"), file.path());
        assertFalse(file.postgres());
    }

    @Test
    void jdbcUrlWithUserAndPasswordFromTheEnvironment() {
        StoreConfig pg = store("store:\n  jdbc-url: jdbc:postgresql://db:5432/gatehouse?sslmode=require\n"
                + "  user: gatehouse\n  password: ${PGPASSWORD}\n", Map.of("PGPASSWORD", "s3cret"));
        assertTrue(pg.postgres());
        assertEquals("jdbc:postgresql://db:5432/gatehouse?sslmode=require", pg.jdbcUrl());
        assertEquals("gatehouse", pg.user());
        assertEquals("s3cret", pg.password());
        assertNull(pg.path());
    }

    @Test
    void libpqUrlsBecomeJdbcUrlsWithTheirCredentialsMovedOut() {
        StoreConfig pg = store("store: {jdbc-url: '${DATABASE_URL}'}",
                Map.of("DATABASE_URL", "postgres://app:p%40ss@db.internal:6432/usage"));
        assertEquals("jdbc:postgresql://db.internal:6432/usage", pg.jdbcUrl());
        assertEquals("app", pg.user());
        assertEquals("p@ss", pg.password());
        assertEquals("jdbc:postgresql://localhost/g", StoreConfig.postgres("postgresql://localhost/g", null, null).jdbcUrl());
        StoreConfig explicit = StoreConfig.postgres("postgresql://app:old@db/g", "other", "new");
        assertEquals("other", explicit.user());
        assertEquals("new", explicit.password());
    }

    @Test
    void thePasswordIsNeverShown() {
        StoreConfig pg = StoreConfig.postgres("postgresql://app:s3cret@db/g?password=s3cret", null, null);
        assertFalse(pg.toString().contains("s3cret"), pg.toString());
        assertFalse(pg.describe().contains("s3cret"), pg.describe());
        GatehouseConfig all = GatehouseConfig.parse("store: {jdbc-url: 'postgresql://db/g', password: s3cret}", Map.of());
        assertFalse(all.toString().contains("s3cret"), all.toString());
        ConfigException wrong = assertThrows(ConfigException.class,
                () -> store("store: {jdbc-url: 'mysql://root:s3cret@db/g'}", Map.of()));
        assertFalse(wrong.getMessage().contains("s3cret"), wrong.getMessage());
        assertTrue(wrong.getMessage().contains("PostgreSQL"), wrong.getMessage());
    }

    @Test
    void timeoutsAndTheUsageQueueHaveDefaultsAndMayBeSet() {
        assertEquals(5_000, StoreConfig.DEFAULT.connectTimeoutMillis());
        assertEquals(10_000, StoreConfig.DEFAULT.queryTimeoutMillis());
        assertEquals(100_000, StoreConfig.DEFAULT.usageQueueRows());
        StoreConfig set = store("store: {jdbc-url: 'postgresql://db/g', connect-timeout-ms: 2000, query-timeout-ms: 30000, "
                + "usage-queue-rows: 500}", Map.of());
        assertEquals(2_000, set.connectTimeoutMillis());
        assertEquals(30_000, set.queryTimeoutMillis());
        assertEquals(500, set.usageQueueRows());
        assertEquals(250, store("store: {query-timeout-ms: 250}", Map.of()).queryTimeoutMillis(), "SQLite's busy timeout");
        assertThrows(ConfigException.class, () -> store("store: {query-timeout-ms: 0}", Map.of()));
        assertThrows(ConfigException.class, () -> store("store: {usage-queue-rows: -1}", Map.of()));
    }

    @Test
    void mistakesAreErrors() {
        assertThrows(ConfigException.class, () -> store("store: {path: g.db, jdbc-url: 'postgresql://db/g'}", Map.of()));
        assertThrows(ConfigException.class, () -> store("store: {path: g.db, password: x}", Map.of()));
        assertThrows(ConfigException.class, () -> store("store: {jdbc-url: '${UNSET}'}", Map.of()));
        assertThrows(ConfigException.class, () -> store("store: {url: 'postgresql://db/g'}", Map.of()));
    }
}
