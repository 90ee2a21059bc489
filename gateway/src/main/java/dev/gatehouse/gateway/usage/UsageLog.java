package dev.gatehouse.gateway.usage;

import dev.gatehouse.gateway.store.Database;
import dev.gatehouse.gateway.store.StoreConnection;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every request's usage, in the {@link Database} beside the keys (the embedded SQLite file, or PostgreSQL).
 * {@link #record} only queues: a writer thread takes whatever has queued and commits it, so under load rows
 * are written in batches and a request never waits on the disk. The writer lets rows gather for
 * {@link #LINGER} after the first one, so even a steady trickle of requests shares its wake-ups and
 * transactions (one commit per row cost a proxied request ~15 % of its CPU). It commits them
 * {@link #ROWS_PER_TRANSACTION} at a time and yields the core between transactions. A row is on disk within that
 * plus one transaction's time of its request ending (well under a second); {@link #flush} and
 * {@link #close} cut the wait short. {@link #close} writes the rest,
 * so a graceful stop loses nothing and a hard kill loses at most the rows queued at that moment.
 * A batch that fails (PostgreSQL down, SQLite locked) is written again, after a wait that doubles up
 * to {@link #MAX_RETRY_WAIT}, until it goes in; meanwhile rows queue up to the queue's limit, and rows
 * past it are dropped, counted ({@link #droppedRows}) and reported in the log. A batch still failing
 * when the log is closed is dropped after {@link #TRIES_AT_CLOSE} tries, counted the same way.
 */
public final class UsageLog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(UsageLog.class.getName());
    private static final int MAX_BATCH = 2_000;
    /**
     * The writer shares the gateway's cores with the requests, and the OS lets it finish its time
     * slice before a request thread woken meanwhile runs. At ~3 µs a row, the 150-600 rows that
     * gather in {@link #LINGER} under load held a core for 0.5-2 ms in one transaction: the largest
     * delay behind a request at one connection (docs/benchmarks.md, sixth pass). 32 rows hold it
     * ~0.1 ms, then the writer yields. The extra commits cost ~0.7 µs a row on their own, 2-5 µs
     * inside a busy gateway (each transaction starts with colder caches).
     */
    static final int ROWS_PER_TRANSACTION = 32;
    static final Duration LINGER = Duration.ofMillis(50);
    static final Duration FIRST_RETRY_WAIT = Duration.ofMillis(250);
    static final Duration MAX_RETRY_WAIT = Duration.ofSeconds(10);
    static final int TRIES_AT_CLOSE = 3;

    /** How /admin/usage groups rows. */
    public enum GroupBy {
        KEY("key_id"), USER("user_name"), MODEL("model"), BACKEND("backend"), RULE("rule");

        final String column;

        GroupBy(String column) {
            this.column = column;
        }
    }

    /** One group of a summary; {@code group} null for rows without one (e.g. no key). */
    public record Summary(String group, long requests, long errors, long promptTokens, long completionTokens,
                          double costUsd, double averageLatencyMillis) {}

    private final StoreConnection db;
    private final Duration timeout;
    private final BlockingQueue<UsageRecord> queue;
    private final int lingerRows; // rows queued at which the writer stops lingering: a batch, or half the queue
    private final Thread writer;
    private final Object written = new Object();
    private long enqueued; // guarded by written
    private long committed; // guarded by written (rows written or given up on)
    private volatile boolean closed; // set under written
    private int flushing; // guarded by written: callers waiting in flush, for whom the writer does not linger
    private final AtomicLong dropped = new AtomicLong();
    private long droppedWhileFull; // guarded by written; > 0 while the queue is full

    private UsageLog(StoreConnection db, Duration timeout, int queueRows) {
        this.db = db;
        this.timeout = timeout;
        this.queue = new LinkedBlockingQueue<>(queueRows);
        this.lingerRows = Math.max(1, Math.min(MAX_BATCH, queueRows / 2));
        this.writer = Thread.ofPlatform().name("usage-log-writer").daemon().start(this::writeLoop);
    }

    /** The SQLite file {@code file}. */
    public static UsageLog open(Path file) {
        return open(Database.sqlite(file));
    }

    /** With at most {@code store.usage-queue-rows} rows waiting for the store. */
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
                              cached INTEGER NOT NULL,
                              rule TEXT)""");
                    // a log made before routing rules: add the column rather than fail every insert
                    try (ResultSet r = c.getMetaData().getColumns(null, null, "usage_log", "rule")) {
                        if (!r.next()) {
                            s.execute("ALTER TABLE usage_log ADD COLUMN rule TEXT");
                        }
                    }
                    s.execute("CREATE INDEX IF NOT EXISTS usage_log_at ON usage_log (at_ms)");
                    s.execute("CREATE INDEX IF NOT EXISTS usage_log_key_at ON usage_log (key_id, at_ms)");
                }
                c.commit();
                return null;
            });
            return new UsageLog(db, Duration.ofMillis(database.config().queryTimeoutMillis()),
                    database.config().usageQueueRows());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open usage log " + database + ": " + e.getMessage(), e);
        }
    }

    /** Queues the row; never blocks on the database. A full queue drops it (counted, and said in the log). */
    public void record(UsageRecord r) {
        synchronized (written) {
            if (closed) { // a request that outlived the server's grace period: say so rather than lose it silently
                LOG.warning("usage log closed: dropping the row of " + r.route() + " (key " + r.keyId() + ", status "
                        + r.status() + ")");
                dropped.incrementAndGet();
                return;
            }
            if (!queue.offer(r)) {
                dropped.incrementAndGet();
                if (droppedWhileFull++ == 0) {
                    LOG.severe("usage log queue full (" + (queue.size() + queue.remainingCapacity()) + " rows waiting for "
                            + "the store): dropping usage rows until it drains (gatehouse_usage_rows_dropped_total)");
                }
                return;
            }
            enqueued++;
            if (queue.size() == lingerRows) {
                written.notifyAll(); // enough for a batch: the writer stops lingering
            }
        }
    }

    /** How long one call to the store may wait ({@code store.query-timeout-ms}). */
    public Duration timeout() {
        return timeout;
    }

    /** Rows never written: dropped because the queue was full, or given up on at close. */
    public long droppedRows() {
        return dropped.get();
    }

    /** Rows waiting for the writer. */
    public int queuedRows() {
        return queue.size();
    }

    /** Waits until every row recorded before this call is committed. */
    public void flush() throws InterruptedException {
        flush(Duration.ofDays(1));
    }

    /** Like {@link #flush()}, for at most {@code timeout}; false when rows are still waiting then. */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (written) {
            long target = enqueued;
            flushing++;
            written.notifyAll(); // a lingering writer writes now
            try {
                while (committed < target && writer.isAlive()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    written.wait(Math.max(1, Math.min(100, TimeUnit.NANOSECONDS.toMillis(left))));
                }
                return true;
            } finally {
                flushing--;
            }
        }
    }

    private void writeLoop() {
        List<UsageRecord> batch = new ArrayList<>();
        while (true) {
            UsageRecord first;
            try {
                first = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                continue; // only close ends the loop, once the queue is empty, so nothing queued is left behind
            }
            if (first == null) {
                if (closed) {
                    return;
                }
                continue;
            }
            linger();
            batch.add(first);
            queue.drainTo(batch, MAX_BATCH - 1);
            for (int from = 0; from < batch.size(); from += ROWS_PER_TRANSACTION) {
                if (from > 0) {
                    Thread.yield(); // a request thread woken during the last transaction runs before the next
                }
                write(batch.subList(from, Math.min(batch.size(), from + ROWS_PER_TRANSACTION)));
            }
            synchronized (written) {
                committed += batch.size();
                written.notifyAll();
                if (droppedWhileFull > 0 && queue.remainingCapacity() > 0) {
                    LOG.warning("usage log queue draining again: " + droppedWhileFull + " usage rows were dropped while it was full");
                    droppedWhileFull = 0;
                }
            }
            batch.clear();
        }
    }

    /** Waits up to {@link #LINGER} for more rows to share the transaction, unless a batch has queued (or half the queue), or someone waits for the rows. */
    private void linger() {
        long until = System.nanoTime() + LINGER.toNanos();
        synchronized (written) {
            while (!closed && flushing == 0 && queue.size() < lingerRows) {
                long left = until - System.nanoTime();
                if (left <= 0) {
                    return;
                }
                try {
                    written.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    return; // nothing interrupts the writer on purpose: write what there is
                }
            }
        }
    }

    /** Writes the batch, trying again until it goes in (or, once the log is closing, {@link #TRIES_AT_CLOSE} times). */
    private void write(List<UsageRecord> batch) {
        Duration wait = FIRST_RETRY_WAIT;
        for (int tries = 1; ; tries++) {
            try {
                insert(batch);
                if (tries > 1) {
                    LOG.info("wrote " + batch.size() + " usage rows after " + tries + " tries");
                }
                return;
            } catch (SQLException | RuntimeException e) {
                // the log must never take the server (or its writer thread) down; rows are kept and tried again
                if (closed && tries >= TRIES_AT_CLOSE) {
                    dropped.addAndGet(batch.size());
                    LOG.log(Level.SEVERE, "cannot write " + batch.size() + " usage rows at close, dropping them: "
                            + e.getMessage(), e);
                    return;
                }
                if (tries == 1) {
                    LOG.log(Level.SEVERE, "cannot write " + batch.size() + " usage rows (" + e.getMessage()
                            + "); trying again until the store takes them", e);
                }
            }
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                // nothing interrupts the writer on purpose; go on trying
            }
            wait = wait.multipliedBy(2).compareTo(MAX_RETRY_WAIT) > 0 ? MAX_RETRY_WAIT : wait.multipliedBy(2);
        }
    }

    private void insert(List<UsageRecord> batch) throws SQLException {
        db.run(c -> {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO usage_log (at_ms, route, key_id, user_name, "
                        + "model, backend, prompt_tokens, completion_tokens, cost_usd, latency_ms, status, fallbacks, "
                        + "cached, rule) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)")) {
                    for (UsageRecord r : batch) {
                        p.setLong(1, r.at().toEpochMilli());
                        p.setString(2, text(r.route()));
                        p.setString(3, text(r.keyId()));
                        p.setString(4, text(r.user()));
                        p.setString(5, text(r.model()));
                        p.setString(6, text(r.backend()));
                        p.setLong(7, r.promptTokens());
                        p.setLong(8, r.completionTokens());
                        p.setDouble(9, r.costUsd());
                        p.setLong(10, r.latencyMillis());
                        p.setInt(11, r.status());
                        p.setString(12, text(r.fallbacks()));
                        p.setInt(13, r.cached() ? 1 : 0);
                        p.setString(14, text(r.rule()));
                        p.addBatch();
                    }
                    p.executeBatch();
                }
                c.commit();
                return null;
            });
    }

    /** PostgreSQL refuses NUL in text, and a row it refuses would be tried forever: a client's NUL becomes U+FFFD. */
    private static String text(String s) {
        return s == null || s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
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

    /** A request that passed over targets before one answered it (or none did). */
    public record Fallback(Instant at, String model, String backend, int status, String fallbacks) {}

    /** The latest {@code limit} requests that fell back or spilled, newest first. */
    public List<Fallback> recentFallbacks(int limit) {
        try {
            return db.run(c -> {
                List<Fallback> out = new ArrayList<>();
                try (PreparedStatement p = c.prepareStatement("SELECT at_ms, model, backend, status, fallbacks "
                        + "FROM usage_log WHERE fallbacks <> '' ORDER BY at_ms DESC LIMIT ?")) {
                    p.setInt(1, limit);
                    try (ResultSet r = p.executeQuery()) {
                        while (r.next()) {
                            out.add(new Fallback(Instant.ofEpochMilli(r.getLong(1)), r.getString(2), r.getString(3),
                                    r.getInt(4), r.getString(5)));
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
            written.notifyAll(); // a lingering writer writes now
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
