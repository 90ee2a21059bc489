package dev.gatehouse.gateway.shared;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.SharedConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisNoScriptException;
import redis.clients.jedis.util.JedisURIHelper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The Redis that several instances share state through ({@code shared:} in gatehouse.yaml), and what
 * happens while it does not answer. Every call is bounded by {@code shared.timeout-ms} (connecting,
 * waiting for a pooled connection, reading the answer), so a request never hangs on Redis. A call
 * that fails marks Redis down for {@link #RETRY}: calls in that time fail at once without touching
 * it, then one tries again. Going down and coming back are each logged once.
 */
public final class Redis implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Redis.class.getName());
    /** How long Redis is left alone after a failed call. */
    static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int POOL_SIZE = 64;

    /** Redis did not answer (or answered with an error); the caller falls back. */
    public static final class Unavailable extends RuntimeException {
        Unavailable(String message) {
            super(message, null, false, false);
        }
    }

    /** A Lua script from {@code resources/redis/}, run by its SHA-1 once Redis has it. */
    public record Script(String name, String source, String sha1) {
        static Script load(String name) {
            try (InputStream in = Redis.class.getResourceAsStream("/redis/" + name + ".lua")) {
                if (in == null) {
                    throw new IllegalStateException("no script redis/" + name + ".lua on the class path");
                }
                String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                return new Script(name, source, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
                        .digest(source.getBytes(StandardCharsets.UTF_8))));
            } catch (IOException | NoSuchAlgorithmException e) {
                throw new IllegalStateException("cannot read redis/" + name + ".lua", e);
            }
        }
    }

    private final SharedConfig config;
    private final ReentrantLock opening = new ReentrantLock();
    private volatile UnifiedJedis client; // made when the servers first answer
    private volatile boolean closed;
    private final String instance = UUID.randomUUID().toString();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicBoolean down = new AtomicBoolean();
    private volatile long retryAt; // System.nanoTime() before which calls fail at once, while down
    private final Counter fallbacks;
    private final Leases leases;

    private Redis(SharedConfig config, MeterRegistry registry) {
        this.config = config;
        this.fallbacks = Counter.builder("gatehouse.shared.fallbacks")
                .description("Limit checks that Redis did not answer: counted by this instance alone (on-redis-down: local) or refused (closed)")
                .register(registry);
        Gauge.builder("gatehouse.shared.redis.up", this, r -> r.down.get() ? 0 : 1)
                .description("1 while the shared Redis answers, 0 while this instance falls back").register(registry);
        this.leases = new Leases(this, config.lease().toMillis());
    }

    /** A client for {@code config}; Redis need not be up yet (until it is, limits fall back). */
    public static Redis connect(SharedConfig config, MeterRegistry registry) {
        Redis redis = new Redis(config, registry);
        try {
            redis.call(c -> c); // a sentinel set or cluster is asked where its masters are now, not at the first request
        } catch (Unavailable e) {
            // logged; the first request after RETRY_NANOS tries again
        }
        return redis;
    }

    /** A client for {@code config}'s servers: a sentinel set or cluster must answer for it to be made. */
    private static UnifiedJedis open(SharedConfig config) {
        int timeout = (int) config.timeout().toMillis();
        ConnectionPoolConfig pool = new ConnectionPoolConfig(); // per server, for a cluster
        pool.setMaxTotal(POOL_SIZE);
        pool.setMaxIdle(POOL_SIZE);
        pool.setMaxWait(config.timeout()); // a request waits for a free connection no longer than for an answer
        return switch (config.servers()) {
            case SharedConfig.Single single -> {
                URI uri = URI.create(single.url());
                DefaultJedisClientConfig.Builder client = clientConfig(timeout, JedisURIHelper.getUser(uri),
                        JedisURIHelper.getPassword(uri), JedisURIHelper.isRedisSSLScheme(uri));
                if (JedisURIHelper.hasDbIndex(uri)) {
                    client.database(JedisURIHelper.getDBIndex(uri));
                }
                yield RedisClient.builder().hostAndPort(JedisURIHelper.getHostAndPort(uri))
                        .clientConfig(client.build()).poolConfig(pool).build();
            }
            case SharedConfig.Sentinel sentinel -> RedisSentinelClient.builder()
                    .masterName(sentinel.master()).sentinels(hostsAndPorts(sentinel.nodes()))
                    .clientConfig(clientConfig(timeout, sentinel.login()).build())
                    .sentinelClientConfig(clientConfig(timeout, null, sentinel.sentinelPassword(), sentinel.login().tls()).build())
                    .poolConfig(pool).build();
            case SharedConfig.Cluster cluster -> RedisClusterClient.builder()
                    .nodes(hostsAndPorts(cluster.nodes())).clientConfig(clientConfig(timeout, cluster.login()).build())
                    .maxTotalRetriesDuration(config.timeout()) // MOVED and ASK are followed, within the one timeout
                    .poolConfig(pool).build();
        };
    }

    private static DefaultJedisClientConfig.Builder clientConfig(int timeoutMillis, SharedConfig.Login login) {
        return clientConfig(timeoutMillis, login.username(), login.password(), login.tls());
    }

    private static DefaultJedisClientConfig.Builder clientConfig(int timeoutMillis, String user, String password, boolean tls) {
        DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMillis).socketTimeoutMillis(timeoutMillis).ssl(tls).clientName("gatehouse");
        if (password != null) {
            client.user(user).password(password);
        }
        return client;
    }

    private static Set<HostAndPort> hostsAndPorts(List<String> nodes) {
        return nodes.stream().map(HostAndPort::from).collect(Collectors.toCollection(LinkedHashSet::new));
    }

    /** The Redis key for {@code part} of caller {@code id}'s state; the id in braces keeps one caller's keys in one cluster slot. */
    String key(String id, String part) {
        return config.keyPrefix() + "{" + id + "}:" + part;
    }

    /** A key of the response cache. */
    String cacheKey(String key) {
        return config.keyPrefix() + "cache:" + key;
    }

    String keyPrefix() {
        return config.keyPrefix();
    }

    /** An id no other instance's request will have. */
    String newId() {
        return instance + ":" + ids.incrementAndGet();
    }

    Leases leases() {
        return leases;
    }

    /** Runs {@code command}, or throws {@link Unavailable} when Redis is down or does not answer in time. */
    <T> T call(Function<UnifiedJedis, T> command) {
        if (down.get() && System.nanoTime() < retryAt) {
            throw new Unavailable("Redis at " + config.describe() + " is down");
        }
        try {
            T result = command.apply(client());
            if (down.compareAndSet(true, false)) {
                LOG.info("Redis at " + config.describe() + " answers again: limits, budgets and the cache are shared again");
            }
            return result;
        } catch (JedisException e) {
            retryAt = System.nanoTime() + RETRY_NANOS;
            if (down.compareAndSet(false, true)) {
                LOG.warning("Redis at " + config.describe() + " does not answer (" + e.getMessage() + "): "
                        + (config.onRedisDown() == SharedConfig.OnRedisDown.LOCAL
                                ? "each instance counts limits and budgets on its own"
                                : "requests with limits or budgets are refused (on-redis-down: closed)")
                        + ", and the cache is skipped, until it answers again");
            }
            throw new Unavailable(e.getMessage());
        }
    }

    /**
     * The client, made on first use: one for a sentinel set or a cluster is only made once they answer.
     * While another thread makes it, a call falls back rather than wait.
     */
    private UnifiedJedis client() {
        UnifiedJedis c = client;
        if (c != null) {
            return c;
        }
        if (!opening.tryLock()) {
            throw new JedisConnectionException("still connecting");
        }
        try {
            if (closed) {
                throw new JedisConnectionException("closed");
            }
            if (client == null) {
                client = open(config);
            }
            return client;
        } finally {
            opening.unlock();
        }
    }

    /** Runs {@code script}: by its SHA-1, or whole when Redis does not have it (yet, or since a restart). */
    Object eval(Script script, List<String> keys, List<String> args) {
        return call(c -> {
            try {
                return c.evalsha(script.sha1(), keys, args);
            } catch (JedisNoScriptException e) {
                return c.eval(script.source(), keys, args);
            }
        });
    }

    /**
     * A limit's answer from Redis, or while it is down: this instance's own ({@code on-redis-down: local})
     * or a 503 ({@code closed}).
     */
    <T> T orLocal(Supplier<T> shared, Supplier<T> local) {
        try {
            return shared.get();
        } catch (Unavailable e) {
            fallbacks.increment();
            if (config.onRedisDown() == SharedConfig.OnRedisDown.CLOSED) {
                throw new ApiException(503, "server_error", "shared_state_unavailable", null,
                        "The limits this request is counted against are kept in a shared store that does not answer now; retry shortly.", 1);
            }
            return local.get();
        }
    }

    /** {@code shared}'s answer, or {@code otherwise} while Redis is down, whatever on-redis-down says (not a limit). */
    <T> T orElse(Supplier<T> shared, Supplier<T> otherwise) {
        try {
            return shared.get();
        } catch (Unavailable e) {
            return otherwise.get();
        }
    }

    @Override
    public void close() {
        leases.close();
        opening.lock();
        try {
            closed = true;
            if (client != null) {
                client.close();
            }
        } finally {
            opening.unlock();
        }
    }
}
