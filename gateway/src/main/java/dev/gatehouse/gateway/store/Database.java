package dev.gatehouse.gateway.store;

import dev.gatehouse.gateway.config.StoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * The database behind keys and usage: an embedded SQLite file (WAL, so the CLI can write while the server
 * runs) or a PostgreSQL server. Opens connections and knows the one type the two spell differently;
 * everything else the stores say is SQL both accept. No call waits on it for ever: PostgreSQL
 * connections have connect, login and socket timeouts, SQLite a busy timeout ({@code store.*-timeout-ms}).
 */
public final class Database {
    private final StoreConfig config;

    private Database(StoreConfig config) {
        this.config = config;
    }

    public static Database of(StoreConfig config) {
        return new Database(config);
    }

    public static Database sqlite(Path file) {
        return new Database(StoreConfig.sqlite(file));
    }

    public boolean postgres() {
        return config.postgres();
    }

    /** Its settings: timeouts, the usage queue's limit. */
    public StoreConfig config() {
        return config;
    }

    /** The column type for raw bytes. */
    public String bytesType() {
        return postgres() ? "BYTEA" : "BLOB";
    }

    /** A new connection, in auto-commit mode. */
    public Connection connect() throws SQLException {
        return postgres() ? connectPostgres() : connectSqlite(config.path());
    }

    private Connection connectPostgres() throws SQLException {
        Properties props = new Properties();
        if (config.user() != null) {
            props.setProperty("user", config.user());
        }
        if (config.password() != null) {
            props.setProperty("password", config.password());
        }
        // whole seconds for the driver, rounded up; a server that takes the connection and never answers
        // fails a call after these, rather than holding its thread (and whoever waits on it) for ever
        String connect = String.valueOf(seconds(config.connectTimeoutMillis()));
        props.setProperty("connectTimeout", connect);
        props.setProperty("loginTimeout", connect);
        props.setProperty("socketTimeout", String.valueOf(seconds(config.queryTimeoutMillis())));
        // getDriver, not getConnection: its "no suitable driver" error would quote the URL, which may hold a password
        Driver driver = DriverManager.getDriver(config.jdbcUrl());
        return driver.connect(config.jdbcUrl(), props);
    }

    private static long seconds(int millis) {
        return (millis + 999L) / 1000;
    }

    private Connection connectSqlite(Path file) throws SQLException {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new SQLException("cannot create the folder for " + file + ": " + e.getMessage(), e);
        }
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            // the server's two connections and the CLI may write at once: wait this long for another's lock
            s.execute("PRAGMA busy_timeout=" + config.queryTimeoutMillis());
            // WAL's usual setting: a commit is not synced to disk on its own, so a power cut (not a crash
            // of the process) may lose the last commits; the usage log's loss window says so
            s.execute("PRAGMA synchronous=NORMAL");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** The file or server, for messages: never a password. */
    @Override
    public String toString() {
        return config.describe();
    }
}
