package dev.gatehouse.gateway.store;

import dev.gatehouse.gateway.config.StoreConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Assumptions;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real PostgreSQL server for tests (zonky's binaries, unpacked from Maven Central: no Docker). Start one
 * per test class, it takes seconds; each test then gets an empty database of its own in it.
 */
public final class TestPostgres implements AutoCloseable {
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private final EmbeddedPostgres server;

    private TestPostgres(EmbeddedPostgres server) {
        this.server = server;
    }

    /**
     * As root, zonky runs PostgreSQL (which refuses root) as {@code nobody} through {@code unshare -U}; where
     * the sandbox forbids that too (Docker's default seccomp profile), the PostgreSQL tests are skipped, saying why.
     */
    public static TestPostgres start() throws IOException {
        try {
            return new TestPostgres(EmbeddedPostgres.builder().start());
        } catch (IOException | RuntimeException e) {
            if ("root".equals(System.getProperty("user.name"))) {
                Assumptions.abort("embedded PostgreSQL cannot start as root here (run the tests as another user, "
                        + "or allow unshare -U): " + e);
            }
            throw e;
        }
    }

    /** A new, empty database, as {@code store.jdbc-url} would name it. */
    public StoreConfig newStore() throws SQLException {
        String name = "gatehouse_" + DATABASES.incrementAndGet();
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return StoreConfig.postgres("postgresql://localhost:" + server.getPort() + "/" + name, "postgres", null);
    }

    /** The server's port on 127.0.0.1. */
    public int port() {
        return server.getPort();
    }

    public Database newDatabase() throws SQLException {
        return Database.of(newStore());
    }

    /** Ends every session on {@code store}'s database, as a server restart would. */
    public void dropConnections(StoreConfig store) throws SQLException {
        String name = store.jdbcUrl().substring(store.jdbcUrl().lastIndexOf('/') + 1);
        try (Connection c = admin(); PreparedStatement p = c.prepareStatement(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()")) {
            p.setString(1, name);
            p.executeQuery().close();
        }
    }

    /** Makes {@code store}'s database refuse (or accept again) new sessions, ending the open ones: PostgreSQL down. */
    public void refuseConnections(StoreConfig store, boolean refuse) throws SQLException {
        String name = store.jdbcUrl().substring(store.jdbcUrl().lastIndexOf('/') + 1);
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS " + !refuse);
        }
        if (refuse) {
            dropConnections(store);
        }
    }

    private Connection admin() throws SQLException {
        return server.getPostgresDatabase().getConnection();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
