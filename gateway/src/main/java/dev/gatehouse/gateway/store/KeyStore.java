package dev.gatehouse.gateway.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Virtual API keys in the {@link Database}: the embedded SQLite file, or PostgreSQL.
 * Only the SHA-256 of a key is stored: the plaintext exists once, in the answer that creates it.
 * Requests are checked against an in-memory copy of the keys, read when the store opens and again
 * every second by a thread of its own once lookups begin: a lookup never waits on the database, so
 * a store that stops answering holds up no request whose key was already read.
 */
public final class KeyStore implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KeyStore.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * What a key may do; null limits are unlimited.
     *
     * @param maxConcurrent requests the key may have in flight at once
     * @param budgetPeriod  a {@link dev.gatehouse.gateway.policy.BudgetPeriod}; null: the budget never resets
     */
    public record Spec(String name, List<String> models, Integer rpm, Integer tpm, Integer maxConcurrent,
                       Double maxBudgetUsd, String budgetPeriod, Instant expiresAt) {
    }

    /** A stored key, without its secret. {@code models} empty = every model. */
    public record Key(String id, Spec spec, Instant createdAt) {
        public boolean expired(Instant now) {
            return spec.expiresAt() != null && !now.isBefore(spec.expiresAt());
        }

        public boolean allows(String model) {
            return spec.models().isEmpty() || spec.models().contains(model);
        }
    }

    /** The answer to a create: the only time the plaintext key is seen. */
    public record Created(String id, String key) {
    }

    private final StoreConnection db;

    /** Every key by the hex of its hash, as read at {@code readAtNanos}. */
    private record Snapshot(Map<String, Key> byHash, long readAtNanos) {}

    private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);
    private volatile Snapshot snapshot;
    private volatile Thread refresher; // set under this; started by the first lookup
    private volatile boolean closed;
    private final Object swap = new Object(); // guards only the choice of snapshot: never held across a database call
    private long changes; // guarded by swap: this store's creates and revokes, so an older read never undoes one

    private KeyStore(StoreConnection db) throws SQLException {
        this.db = db;
        this.snapshot = new Snapshot(read(), System.nanoTime());
    }

    /** The SQLite file {@code file}. */
    public static KeyStore open(Path file) {
        return open(Database.sqlite(file));
    }

    public static KeyStore open(Database database) {
        try {
            StoreConnection db = StoreConnection.open(database, true, c -> { // the tables, on first use
                try (Statement s = c.createStatement()) {
                    s.execute("""
                            CREATE TABLE IF NOT EXISTS api_keys (
                              id TEXT PRIMARY KEY,
                              key_hash %s NOT NULL UNIQUE,
                              name TEXT NOT NULL,
                              models TEXT NOT NULL,
                              rpm INTEGER, tpm INTEGER, max_concurrent INTEGER, max_budget_usd DOUBLE PRECISION,
                              budget_period TEXT,
                              expires_at BIGINT,
                              created_at BIGINT NOT NULL)""".formatted(database.bytesType()));
                    // a store made before max_concurrent existed: add the column rather than fail every insert
                    try (ResultSet r = c.getMetaData().getColumns(null, null, "api_keys", "max_concurrent")) {
                        if (!r.next()) {
                            s.execute("ALTER TABLE api_keys ADD COLUMN max_concurrent INTEGER");
                        }
                    }
                }
                return null;
            });
            try {
                return new KeyStore(db);
            } catch (SQLException | RuntimeException e) {
                db.close();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open key store " + database + ": " + e.getMessage(), e);
        }
    }

    public Created create(Spec spec) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String key = "gh-" + HexFormat.of().formatHex(secret);
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        String keyId = "key_" + HexFormat.of().formatHex(id);
        try {
            Created created = db.run(c -> {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO api_keys (id, key_hash, name, models, rpm, tpm, "
                        + "max_concurrent, max_budget_usd, budget_period, expires_at, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)")) {
                    p.setString(1, keyId);
                    p.setBytes(2, sha256(key));
                    p.setString(3, spec.name());
                    p.setString(4, String.join("\n", spec.models()));
                    p.setObject(5, spec.rpm(), Types.INTEGER);
                    p.setObject(6, spec.tpm(), Types.INTEGER);
                    p.setObject(7, spec.maxConcurrent(), Types.INTEGER);
                    p.setObject(8, spec.maxBudgetUsd(), Types.DOUBLE);
                    p.setString(9, spec.budgetPeriod());
                    p.setObject(10, spec.expiresAt() == null ? null : spec.expiresAt().getEpochSecond(), Types.BIGINT);
                    p.setLong(11, Instant.now().getEpochSecond());
                    p.executeUpdate();
                    return new Created(keyId, key);
                }
            });
            reload(); // this process sees its own new key at once
            return created;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot store key: " + e.getMessage(), e);
        }
    }

    public List<Key> list() {
        try {
            return db.run(c -> {
                try (PreparedStatement p = c.prepareStatement("SELECT * FROM api_keys ORDER BY created_at, id");
                     ResultSet r = p.executeQuery()) {
                    List<Key> keys = new ArrayList<>();
                    while (r.next()) {
                        keys.add(key(r));
                    }
                    return keys;
                }
            });
        } catch (SQLException e) {
            throw new IllegalStateException("cannot list keys: " + e.getMessage(), e);
        }
    }

    /**
     * The key whose hash matches. Looked up in memory, never waiting on the database: a key created or
     * revoked by another process, `gatehouse keys` or a second server, counts within about a second;
     * this store's own changes count at once. While the database does not answer, the keys as last
     * read go on counting. A map lookup by hash tells an attacker nothing: they cannot choose what a
     * guess hashes to.
     */
    public Optional<Key> find(String plaintext) {
        return Optional.ofNullable(snapshot().byHash().get(HexFormat.of().formatHex(sha256(plaintext))));
    }

    public boolean isEmpty() {
        return snapshot().byHash().isEmpty();
    }

    /** The keys in memory, as the refresher last read them. */
    private Snapshot snapshot() {
        if (refresher == null) {
            startRefresher();
        }
        return snapshot;
    }

    private synchronized void startRefresher() {
        if (refresher == null && !closed) {
            // a platform thread: a JDBC call that hangs must not pin a virtual thread's carrier
            refresher = Thread.ofPlatform().name("key-store-refresh").daemon().start(() -> {
                while (!closed) {
                    try {
                        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(REFRESH_NANOS));
                    } catch (InterruptedException e) {
                        return; // closed
                    }
                    refresh();
                }
            });
        }
    }

    private void refresh() {
        long changesBefore;
        synchronized (swap) {
            changesBefore = changes;
        }
        long now = System.nanoTime();
        try {
            Map<String, Key> read = read();
            synchronized (swap) {
                if (changes == changesBefore) { // else a create or revoke read the keys after this began: keep that
                    snapshot = new Snapshot(read, now);
                }
            }
        } catch (SQLException | RuntimeException e) {
            // the store is down or not answering: keep serving the keys as last read, try again in a second
            LOG.warning("cannot read keys (" + e.getMessage() + "); using the copy read "
                    + TimeUnit.NANOSECONDS.toSeconds(now - snapshot.readAtNanos()) + " s ago");
        }
    }

    /** After this store changed a key: the keys read again now, so the change counts at once. */
    private void reload() throws SQLException {
        long mine;
        synchronized (swap) {
            mine = ++changes; // a refresh that began before this no longer replaces the snapshot
        }
        long now = System.nanoTime();
        Map<String, Key> read = read();
        synchronized (swap) {
            if (changes == mine) { // else a later change read the keys after this one: keep that
                snapshot = new Snapshot(read, now);
            }
        }
    }

    private Map<String, Key> read() throws SQLException {
        return db.run(c -> {
            try (PreparedStatement p = c.prepareStatement("SELECT * FROM api_keys"); ResultSet r = p.executeQuery()) {
                Map<String, Key> byHash = new HashMap<>();
                while (r.next()) {
                    byHash.put(HexFormat.of().formatHex(r.getBytes("key_hash")), key(r));
                }
                return Map.copyOf(byHash);
            }
        });
    }

    /** False when no key has that id. */
    public boolean revoke(String id) {
        try {
            boolean deleted = db.run(c -> {
                try (PreparedStatement p = c.prepareStatement("DELETE FROM api_keys WHERE id = ?")) {
                    p.setString(1, id);
                    return p.executeUpdate() > 0;
                }
            });
            reload(); // this process stops accepting it at once
            return deleted;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot revoke key: " + e.getMessage(), e);
        }
    }

    public static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Key key(ResultSet r) throws SQLException {
        String models = r.getString("models");
        long expires = r.getLong("expires_at");
        Instant expiresAt = r.wasNull() ? null : Instant.ofEpochSecond(expires);
        Spec spec = new Spec(r.getString("name"), models.isEmpty() ? List.of() : Arrays.asList(models.split("\n")),
                whole(r, "rpm"), whole(r, "tpm"), whole(r, "max_concurrent"),
                r.getObject("max_budget_usd") == null ? null : r.getDouble("max_budget_usd"),
                r.getString("budget_period"), expiresAt);
        return new Key(r.getString("id"), spec, Instant.ofEpochSecond(r.getLong("created_at")));
    }

    private static Integer whole(ResultSet r, String column) throws SQLException {
        Object v = r.getObject(column); // sqlite-jdbc answers Integer or Long depending on the value
        return v == null ? null : ((Number) v).intValue();
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            if (refresher != null) {
                refresher.interrupt();
            }
        }
        try {
            db.close();
        } catch (SQLException e) {
            // nothing left to save: every write was committed when it returned
        }
    }
}
