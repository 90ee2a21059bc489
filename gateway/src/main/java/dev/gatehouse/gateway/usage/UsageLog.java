package dev.gatehouse.gateway.usage;

import dev.gatehouse.gateway.store.Database;
import dev.gatehouse.gateway.store.StoreConnection;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every request's usage, in the {@link Database} beside the keys (the embedded SQLite file, or PostgreSQL).
 * {@link #record} only queues: a writer thread takes whatever has queued and commits it as one transaction, so under load rows
 * are written in batches and a request never waits on the disk. A row is on disk within one
 * transaction's time of its request ending (well under a second); {@link #close} writes the rest,
 * so a graceful stop loses nothing and a hard kill loses at most the rows queued at that moment.
 * A batch that fails on a dropped PostgreSQL connection is written again once reconnected; one that still
 * fails is logged with its row count and dropped, and the writer carries on.
 */
public final class UsageLog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(UsageLog.class.getName());
    private static final int MAX_BATCH = 2_000;
    private static final UsageRecord STOP = new UsageRecord(Instant.EPOCH, "", null, null, null, null, 0, 0, 0, 0, 0, "", false);

    /** How /admin/usage groups rows. */
    public enum GroupBy {
        KEY("key_id"), MODEL("model"), BACKEND("backend");

        final String column;

        GroupBy(String column) {
            this.column = column;
        }
    }

    /** One group of a summary; {@code group} null for rows without one (e.g. no key). */
    public record Summary(String group, long requests, long errors, long promptTokens, long completionTokens,
                          double costUsd, double averageLatencyMillis) {}

    private final StoreConnection db;
    private final BlockingQueue<UsageRecord> queue = new LinkedBlockingQueue<>();
    private final Thread writer;
    private final Object written = new Object();
    private long enqueued; // guarded by written
    private long committed; // guarded by written
    private boolean closed; // guarded by written

    private UsageLog(StoreConnection db) {
        this.db = db;
        this.writer = Thread.ofPlatform().name("usage-log-writer").daemon().start(this::writeLoop);
    }

    /** The SQLite file {@code file}. */
    public static UsageLog open(Path file) {
        return open(Database.sqlite(file));
    }

    public static UsageLog open(Database database) {
        try {
            StoreConnection db = StoreConnection.open(database, false, c -> { // the tables, on first use
                try (Statement s = c.createStatement()) {
                    s.execute("""
                            CREATE TABLE IF NOT EXISTS usage_log (
                              at_ms BIGINT NOT NULL,
                              route TEXT NOT NULL,
                              key_id TEXT, user_name TEXT, model TEXT, backend TEXT,
                              prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL,
                              cost_usd DOUBLE PRECISION NOT NULL,
                              latency_ms BIGINT NOT NULL,
                              status INTEGER NOT NULL,
                              fallbacks TEXT NOT NULL,
                              cached INTEGER NOT NULL)""");
                    s.execute("CREATE INDEX IF NOT EXISTS usage_log_at ON usage_log (at_ms)");
                    s.execute("CREATE INDEX IF NOT EXISTS usage_log_key_at ON usage_log (key_id, at_ms)");
                }
                c.commit();
                return null;
            });
            return new UsageLog(db);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open usage log " + database + ": " + e.getMessage(), e);
        }
    }

    /** Queues the row; never blocks on the database. */
    public void record(UsageRecord r) {
        synchronized (written) {
            if (closed) { // a request that outlived the server's grace period: say so rather than lose it silently
                LOG.warning("usage log closed: dropping the row of " + r.route() + " (key " + r.keyId() + ", status "
                        + r.status() + ")");
                return;
            }
            enqueued++;
            queue.add(r);
        }
    }

    /** Waits until every row recorded before this call is committed. */
    public void flush() throws InterruptedException {
        synchronized (written) {
            long target = enqueued;
            while (committed < target && writer.isAlive()) {
                written.wait(100);
            }
        }
    }

    private void writeLoop() {
        List<UsageRecord> batch = new ArrayList<>();
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                continue; // only STOP ends the loop, so nothing queued is left behind
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            boolean stop = batch.removeIf(r -> r == STOP);
            write(batch);
            synchronized (written) {
                committed += batch.size();
                written.notifyAll();
            }
            batch.clear();
            if (stop) {
                return;
            }
        }
    }

    private void write(List<UsageRecord> batch) {
        if (batch.isEmpty()) {
            return;
        }
        try {
            db.run(c -> {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO usage_log (at_ms, route, key_id, user_name, "
                        + "model, backend, prompt_tokens, completion_tokens, cost_usd, latency_ms, status, fallbacks, "
                        + "cached) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                    for (UsageRecord r : batch) {
                        p.setLong(1, r.at().toEpochMilli());
                        p.setString(2, r.route());
                        p.setString(3, r.keyId());
                        p.setString(4, r.user());
                        p.setString(5, r.model());
                        p.setString(6, r.backend());
                        p.setLong(7, r.promptTokens());
                        p.setLong(8, r.completionTokens());
                        p.setDouble(9, r.costUsd());
                        p.setLong(10, r.latencyMillis());
                        p.setInt(11, r.status());
                        p.setString(12, r.fallbacks());
                        p.setInt(13, r.cached() ? 1 : 0);
                        p.addBatch();
                    }
                    p.executeBatch();
                }
                c.commit();
                return null;
            });
        } catch (SQLException | RuntimeException e) {
            // the log must never take the server (or its writer thread) down; the rows are reported, not silently dropped
            LOG.log(Level.SEVERE, "cannot write " + batch.size() + " usage rows: " + e.getMessage(), e);
        }
    }

    /** Dollars spent by {@code keyId} at or after {@code since}, as committed (call {@link #flush} first for exactness). */
    public double spent(String keyId, Instant since) {
        try {
            return db.run(c -> {
                double spent;
                try (PreparedStatement p = c.prepareStatement(
                        "SELECT COALESCE(SUM(cost_usd), 0) FROM usage_log WHERE key_id = ? AND at_ms >= ?")) {
                    p.setString(1, keyId);
                    p.setLong(2, since.toEpochMilli());
                    try (ResultSet r = p.executeQuery()) {
                        r.next();
                        spent = r.getDouble(1);
                    }
                }
                // ends the read transaction, with the statement closed first: while one is open SQLite keeps
                // the snapshot, and this connection would never see another server's or process's new rows
                c.commit();
                return spent;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the usage log: " + e.getMessage(), e);
        }
    }

    /** Rows with {@code from <= at < to}, grouped, biggest spenders first. */
    public List<Summary> summary(Instant from, Instant to, GroupBy groupBy) {
        String sql = "SELECT " + groupBy.column + ", COUNT(*), SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END), "
                + "SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd), AVG(latency_ms) FROM usage_log "
                + "WHERE at_ms >= ? AND at_ms < ? GROUP BY " + groupBy.column
                + " ORDER BY SUM(cost_usd) DESC, COUNT(*) DESC, " + groupBy.column + " NULLS FIRST"; // the same order on both databases
        try {
            return db.run(c -> {
                List<Summary> out = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement(sql)) {
                    p.setLong(1, from.toEpochMilli());
                    p.setLong(2, to.toEpochMilli());
                    try (ResultSet r = p.executeQuery()) {
                        while (r.next()) {
                            out.add(new Summary(r.getString(1), r.getLong(2), r.getLong(3), r.getLong(4), r.getLong(5),
                                    r.getDouble(6), r.getDouble(7)));
                        }
                    }
                }
                c.commit();
                return out;
            });
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the usage log: " + e.getMessage(), e);
        }
    }

    /** Writes every queued row, then closes the database. */
    @Override
    public void close() {
        synchronized (written) {
            if (closed) {
                return;
            }
            closed = true;
            queue.add(STOP);
        }
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            db.close();
        } catch (SQLException e) {
            LOG.warning("usage log close failed: " + e.getMessage());
        }
    }
}
