package dev.gatehouse.gateway.store;

import dev.gatehouse.gateway.cache.SemanticAnswers;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.config.SemanticCacheConfig;
import dev.gatehouse.gateway.shared.AnswerJson;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The semantic cache's answers in PostgreSQL with pgvector, shared by every instance using the same
 * database. One table per embedding size ({@code gatehouse_semantic_answers_384}) with an HNSW index on
 * the vectors by cosine distance; a lookup is one query (the nearest unexpired answer of the context,
 * its answer sent only when similar enough), a store one statement: the insert, and a bounded delete of
 * expired answers and of those beyond {@code max-entries}. A database that fails or cannot be reached
 * makes lookups miss and stores do nothing, never a failed request; that is logged once per outage, and
 * while it lasts the database is tried again at most once a second.
 */
public final class PgvectorAnswers implements SemanticAnswers, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PgvectorAnswers.class.getName());
    /** Connections at most: lookups and stores beyond it wait for one. */
    private static final int CONNECTIONS = 4;
    /** Rows a store deletes at most: the cost of a store stays bounded, and a backlog goes a batch per store. */
    private static final int DELETE_BATCH = 1000;
    private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Database database;
    private final SemanticCacheConfig config;
    private final Clock clock;
    private final Semaphore permits = new Semaphore(CONNECTIONS);
    private final Queue<Connection> idle = new ConcurrentLinkedQueue<>();
    private final Set<Integer> tables = ConcurrentHashMap.newKeySet(); // dimensions whose table is known to exist
    private final Object outage = new Object();
    private boolean down; // guarded by outage
    private long retryAtNanos; // guarded by outage: while down, the next try

    private PgvectorAnswers(Database database, SemanticCacheConfig config, Clock clock) {
        this.database = database;
        this.config = config;
        this.clock = clock;
    }

    /**
     * Checks that the server has pgvector 0.8 or newer (creating the extension when it is available but
     * not yet created): without it Gatehouse does not start, saying so. Tables are made on first use,
     * when the embedding model's size is known.
     */
    public static PgvectorAnswers open(Database database, SemanticCacheConfig config, Clock clock) {
        try (Connection c = database.connect(); Statement s = c.createStatement()) {
            try {
                s.execute("CREATE EXTENSION IF NOT EXISTS vector");
            } catch (SQLException e) {
                throw new IllegalStateException("the semantic cache with a PostgreSQL store needs the pgvector extension in "
                        + database + ": " + e.getMessage() + " (install pgvector 0.8 or newer on the server, "
                        + "https://github.com/pgvector/pgvector, or have a superuser run CREATE EXTENSION vector)", e);
            }
            try (ResultSet r = s.executeQuery("SELECT extversion FROM pg_extension WHERE extname = 'vector'")) {
                String version = r.next() ? r.getString(1) : "none";
                if (!atLeast08(version)) {
                    throw new IllegalStateException("the semantic cache needs pgvector 0.8 or newer in " + database
                            + " (its filtered HNSW searches), found " + version + ": ALTER EXTENSION vector UPDATE");
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open the semantic cache's store " + database + ": " + e.getMessage(), e);
        }
        return new PgvectorAnswers(database, config, clock);
    }

    private static boolean atLeast08(String version) {
        String[] parts = version.split("\\.");
        try {
            int major = Integer.parseInt(parts[0]);
            return major > 0 || (parts.length > 1 && Integer.parseInt(parts[1]) >= 8);
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Override
    public Nearest nearest(float[] unit, long context, double threshold) {
        return attempt(c -> {
            try (PreparedStatement p = c.prepareStatement("""
                    SELECT 1 - distance, CASE WHEN 1 - distance >= ? THEN answer END FROM (
                      SELECT embedding <=> ?::vector AS distance, answer FROM %s
                      WHERE context = ? AND expires_at > ? ORDER BY distance LIMIT 1) nearest""".formatted(table(c, unit)))) {
                p.setDouble(1, threshold);
                p.setString(2, text(unit));
                p.setLong(3, context);
                p.setObject(4, OffsetDateTime.ofInstant(clock.instant(), ZoneOffset.UTC));
                try (ResultSet r = p.executeQuery()) {
                    if (!r.next()) {
                        return null;
                    }
                    byte[] answer = r.getBytes(2);
                    // an answer this version cannot read is as good as none: a miss with its similarity
                    return new Nearest((float) r.getDouble(1), answer == null ? null : AnswerJson.read(answer));
                }
            }
        });
    }

    @Override
    public void add(float[] unit, long context, List<ChatEvent> answer) {
        attempt(c -> {
            String table = table(c, unit);
            Instant now = clock.instant();
            // the ids count stores: those more than max-entries below the new one's are the oldest beyond the cap;
            // each part is an index range in index order, so a store with nothing to delete reads next to nothing
            try (PreparedStatement p = c.prepareStatement("""
                    WITH added AS (
                      INSERT INTO %1$s (context, embedding, answer, created_at, expires_at) VALUES (?, ?::vector, ?, ?, ?)
                      RETURNING id)
                    DELETE FROM %1$s WHERE id IN (
                      (SELECT id FROM %1$s WHERE id <= (SELECT id FROM added) - ? ORDER BY id LIMIT ?)
                      UNION ALL
                      (SELECT id FROM %1$s WHERE expires_at <= ? ORDER BY expires_at LIMIT ?))""".formatted(table))) {
                p.setLong(1, context);
                p.setString(2, text(unit));
                p.setBytes(3, AnswerJson.write(answer));
                p.setObject(4, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
                p.setObject(5, OffsetDateTime.ofInstant(now.plus(config.ttl()), ZoneOffset.UTC));
                p.setLong(6, config.maxEntries());
                p.setInt(7, DELETE_BATCH);
                p.setObject(8, OffsetDateTime.ofInstant(now, ZoneOffset.UTC));
                p.setInt(9, DELETE_BATCH);
                p.executeUpdate();
            }
            return null;
        });
    }

    /**
     * The table for vectors of {@code unit}'s size, made (with its indexes) on its first use here, and
     * again after a failure: a database recreated behind Gatehouse gets the extension and table back. Two
     * instances making it at the same moment may see one fail: that one misses for a second and tries again.
     */
    private String table(Connection c, float[] unit) throws SQLException {
        String table = "gatehouse_semantic_answers_" + unit.length;
        if (tables.contains(unit.length)) {
            return table;
        }
        synchronized (tables) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE EXTENSION IF NOT EXISTS vector");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS %1$s (
                          id BIGSERIAL PRIMARY KEY,
                          context BIGINT NOT NULL,
                          embedding vector(%2$d) NOT NULL,
                          answer BYTEA NOT NULL,
                          created_at TIMESTAMPTZ NOT NULL,
                          expires_at TIMESTAMPTZ NOT NULL)""".formatted(table, unit.length));
                // pgvector's defaults (m 16, ef_construction 64); half the ef_construction found fewer of the answers
                // near questions came from (docs/benchmarks.md), and a wider search at lookup did not help
                s.execute("CREATE INDEX IF NOT EXISTS %1$s_embedding ON %1$s USING hnsw (embedding vector_cosine_ops)".formatted(table));
                s.execute("CREATE INDEX IF NOT EXISTS %1$s_context ON %1$s (context)".formatted(table));
                s.execute("CREATE INDEX IF NOT EXISTS %1$s_expires_at ON %1$s (expires_at)".formatted(table));
            }
            tables.add(unit.length);
        }
        return table;
    }

    /**
     * A new connection whose HNSW searches go on past the index's first candidates until one passes the
     * filters (context, expiry): else a context with few answers among many would rarely find its own.
     */
    private Connection connect() throws SQLException {
        Connection c = database.connect();
        try (Statement s = c.createStatement()) {
            s.execute("SET hnsw.iterative_scan = strict_order");
        } catch (SQLException e) {
            closeQuietly(c);
            throw e;
        }
        return c;
    }

    /** Runs {@code work} on a pooled connection; null when the database fails or is down (logged once per outage). */
    private <T> T attempt(StoreConnection.Work<T> work) {
        synchronized (outage) {
            if (down && System.nanoTime() - retryAtNanos < 0) {
                return null;
            }
        }
        permits.acquireUninterruptibly(); // each call ends within the store's socket timeout
        try {
            Connection pooled = idle.poll();
            if (pooled != null) {
                try {
                    return succeeded(work.run(pooled), pooled);
                } catch (SQLException e) {
                    closeQuietly(pooled); // likely one the server dropped (it restarted): once more on a new one
                }
            }
            Connection c = connect();
            try {
                return succeeded(work.run(c), c);
            } catch (SQLException e) {
                closeQuietly(c);
                throw e;
            }
        } catch (SQLException e) {
            down(e);
            return null;
        } finally {
            permits.release();
        }
    }

    private <T> T succeeded(T result, Connection c) {
        idle.add(c);
        up();
        return result;
    }

    private void up() {
        synchronized (outage) {
            if (down) {
                down = false;
                LOG.info("semantic cache: " + database + " answers again");
            }
        }
    }

    private void down(SQLException e) {
        tables.clear(); // a table dropped behind our back is made again on the next try
        synchronized (outage) {
            if (!down) {
                down = true;
                LOG.warning("semantic cache: " + database + " failed (" + e.getMessage()
                        + "); lookups miss and nothing is stored until it answers again");
            }
            retryAtNanos = System.nanoTime() + RETRY_NANOS;
        }
    }

    /** A vector as pgvector's text input, {@code [0.1,-0.2,...]}. */
    private static String text(float[] v) {
        StringBuilder b = new StringBuilder(v.length * 12).append('[');
        for (int i = 0; i < v.length; i++) {
            b.append(i == 0 ? "" : ",").append(v[i]);
        }
        return b.append(']').toString();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException e) {
            // it is broken already
        }
    }

    @Override
    public void close() {
        for (Connection c; (c = idle.poll()) != null; ) {
            closeQuietly(c);
        }
    }
}
