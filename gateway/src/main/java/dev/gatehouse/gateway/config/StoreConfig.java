package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * {@code store}: where virtual keys and the usage log live. By default an embedded SQLite file
 * ({@code path}, default {@code data/gatehouse.db}); with {@code jdbc-url} a PostgreSQL database instead.
 *
 * @param path     the SQLite file; unused when {@code jdbcUrl} is set
 * @param jdbcUrl  {@code jdbc:postgresql://host[:port]/db[?...]}, or null for SQLite
 * @param user     the PostgreSQL user, or null (the URL or the driver's default then decides)
 * @param password the PostgreSQL password, or null; never logged, not even by {@link #toString}
 * @param connectTimeoutMillis how long opening a PostgreSQL connection may take ({@code connect-timeout-ms})
 * @param queryTimeoutMillis   how long one database call may wait: PostgreSQL's socket timeout, SQLite's busy
 *                             timeout ({@code query-timeout-ms})
 * @param usageQueueRows       usage rows that may wait for the store before new ones are dropped ({@code usage-queue-rows})
 */
public record StoreConfig(Path path, String jdbcUrl, String user, String password, int connectTimeoutMillis,
                          int queryTimeoutMillis, int usageQueueRows) {

    public static final Path DEFAULT_PATH = Path.of("data", "gatehouse.db");
    public static final int DEFAULT_CONNECT_TIMEOUT_MILLIS = 5_000;
    public static final int DEFAULT_QUERY_TIMEOUT_MILLIS = 10_000;
    public static final int DEFAULT_USAGE_QUEUE_ROWS = 100_000;
    public static final StoreConfig DEFAULT = sqlite(DEFAULT_PATH);

    public static StoreConfig sqlite(Path file) {
        return new StoreConfig(file, null, null, null, DEFAULT_CONNECT_TIMEOUT_MILLIS, DEFAULT_QUERY_TIMEOUT_MILLIS,
                DEFAULT_USAGE_QUEUE_ROWS);
    }

    /** The same store with other timeouts. */
    public StoreConfig withTimeouts(int connectTimeoutMillis, int queryTimeoutMillis) {
        return new StoreConfig(path, jdbcUrl, user, password, connectTimeoutMillis, queryTimeoutMillis, usageQueueRows);
    }

    /** The same store with another limit on the usage rows waiting for it. */
    public StoreConfig withUsageQueueRows(int rows) {
        return new StoreConfig(path, jdbcUrl, user, password, connectTimeoutMillis, queryTimeoutMillis, rows);
    }

    public boolean postgres() {
        return jdbcUrl != null;
    }

    /** Where the store is, for logs and errors: the file, or the URL without credentials or parameters. */
    public String describe() {
        if (!postgres()) {
            return path.toString();
        }
        int query = jdbcUrl.indexOf('?');
        return query < 0 ? jdbcUrl : jdbcUrl.substring(0, query);
    }

    @Override
    public String toString() {
        return "StoreConfig[" + describe() + (user == null ? "" : ", user=" + user)
                + (password == null ? "" : ", password=***") + "]";
    }

    static StoreConfig parse(JsonNode n, Map<String, String> env) {
        if (n.isMissingNode()) {
            return DEFAULT;
        }
        GatehouseConfig.requireObject(n, "store");
        GatehouseConfig.allowKeys(n, "store", Set.of("path", "jdbc-url", "user", "password", "connect-timeout-ms",
                "query-timeout-ms", "usage-queue-rows"));
        Integer connect = GatehouseConfig.positive(n, "connect-timeout-ms", "store");
        Integer query = GatehouseConfig.positive(n, "query-timeout-ms", "store");
        Integer queueRows = GatehouseConfig.positive(n, "usage-queue-rows", "store");
        return where(n, env).withTimeouts(connect == null ? DEFAULT_CONNECT_TIMEOUT_MILLIS : connect,
                        query == null ? DEFAULT_QUERY_TIMEOUT_MILLIS : query)
                .withUsageQueueRows(queueRows == null ? DEFAULT_USAGE_QUEUE_ROWS : queueRows);
    }

    /** The file or the server {@code store} names. */
    private static StoreConfig where(JsonNode n, Map<String, String> env) {
        if (!n.has("jdbc-url")) {
            if (n.has("user") || n.has("password")) {
                throw new ConfigException("store: 'user' and 'password' go with 'jdbc-url' (PostgreSQL)");
            }
            return n.has("path")
                    ? sqlite(Path.of(GatehouseConfig.expand(GatehouseConfig.text(n, "path", "store"), env, "store.path")))
                    : DEFAULT;
        }
        if (n.has("path")) {
            throw new ConfigException("store: set 'path' (an SQLite file) or 'jdbc-url' (PostgreSQL), not both");
        }
        String url = GatehouseConfig.expand(GatehouseConfig.text(n, "jdbc-url", "store"), env, "store.jdbc-url");
        String user = n.has("user") ? GatehouseConfig.expand(GatehouseConfig.text(n, "user", "store"), env, "store.user") : null;
        String password = n.has("password")
                ? GatehouseConfig.expand(GatehouseConfig.text(n, "password", "store"), env, "store.password") : null;
        return postgres(url, user, password);
    }

    /**
     * A PostgreSQL store from {@code jdbc:postgresql://host/db}, or the libpq form {@code postgresql://} or
     * {@code postgres://}, whose {@code user:password@} the JDBC driver would not read: it is moved into
     * {@code user} and {@code password} (which, when given, win).
     */
    public static StoreConfig postgres(String url, String user, String password) {
        String rest;
        if (url.startsWith("jdbc:postgresql://")) {
            rest = url.substring("jdbc:postgresql://".length());
        } else if (url.startsWith("postgresql://")) {
            rest = url.substring("postgresql://".length());
        } else if (url.startsWith("postgres://")) {
            rest = url.substring("postgres://".length());
        } else {
            // the URL is not echoed: it may hold a password
            throw new ConfigException("store.jdbc-url must be a PostgreSQL URL (jdbc:postgresql://host:5432/db or "
                    + "postgresql://host/db); for SQLite set store.path instead");
        }
        int at = rest.indexOf('@');
        int slash = rest.indexOf('/');
        if (at >= 0 && (slash < 0 || at < slash)) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            String urlUser = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            String urlPassword = colon < 0 ? null : decode(userInfo.substring(colon + 1));
            user = user != null ? user : urlUser.isEmpty() ? null : urlUser;
            password = password != null ? password : urlPassword;
        }
        String jdbcUrl = "jdbc:postgresql://" + rest;
        return new StoreConfig(null, jdbcUrl, user, password, DEFAULT_CONNECT_TIMEOUT_MILLIS, DEFAULT_QUERY_TIMEOUT_MILLIS,
                DEFAULT_USAGE_QUEUE_ROWS);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
