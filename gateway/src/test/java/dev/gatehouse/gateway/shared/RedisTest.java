package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.SharedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Connecting as gatehouse.yaml says: a password in the URL (as deploy/kubernetes writes it) and a
 * database index; a sentinel set's passwords; a cluster that comes up after Gatehouse.
 */
class RedisTest {
    @TempDir
    Path dir;

    private static SharedConfig shared(String url) {
        return GatehouseConfig.parse("shared: {redis-url: '" + url + "', key-prefix: 't:'}", Map.of()).shared();
    }

    /** {@code servers}: a flow mapping of sentinel: or cluster:. */
    private static SharedConfig sharedVia(String servers) {
        return GatehouseConfig.parse("shared: " + servers.substring(0, servers.length() - 1) + ", key-prefix: 't:'}", Map.of()).shared();
    }

    @Test
    void aPasswordAndADatabaseFromTheUrl() throws Exception {
        try (TestRedis server = TestRedis.start(dir, List.of("--requirepass", "s3cret-pass"))) {
            String hostPort = server.url().substring("redis://".length());
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (Redis db2 = Redis.connect(shared("redis://:s3cret-pass@" + hostPort + "/2"), registry);
                 Redis db0 = Redis.connect(shared("redis://:s3cret-pass@" + hostPort), new SimpleMeterRegistry())) {
                db2.call(c -> c.set("k", "v"));
                assertEquals("v", db2.call(c -> c.get("k")));
                assertNull(db0.call(c -> c.get("k")), "database 2 is not database 0");
                assertEquals(1.0, registry.get("gatehouse.shared.redis.up").gauge().value());
            }
            try (Redis wrong = Redis.connect(shared("redis://:wrong@" + hostPort), new SimpleMeterRegistry())) {
                assertThrows(Redis.Unavailable.class, () -> wrong.call(c -> c.get("k")), "a refused password is Redis being unavailable");
            }
        }
    }

    @Test
    void theServersAndTheSentinelsOwnPasswords() throws Exception {
        try (TestRedisSentinel sentinels = TestRedisSentinel.start(dir, 1, "server-pass", "sentinel-pass")) {
            String nodes = String.join(", ", sentinels.nodes());
            try (Redis redis = Redis.connect(sharedVia("{sentinel: {master: " + TestRedisSentinel.MASTER + ", nodes: [" + nodes
                    + "], password: server-pass, sentinel-password: sentinel-pass}}"), new SimpleMeterRegistry())) {
                redis.call(c -> c.set("k", "v"));
                assertEquals("v", redis.call(c -> c.get("k")));
            }
            try (Redis wrong = Redis.connect(sharedVia("{sentinel: {master: " + TestRedisSentinel.MASTER + ", nodes: [" + nodes
                    + "], password: server-pass, sentinel-password: wrong}}"), new SimpleMeterRegistry())) {
                assertThrows(Redis.Unavailable.class, () -> wrong.call(c -> c.get("k")), "sentinels that refuse the password");
            }
        }
    }

    @Test
    void aClusterDownAtStartIsUsedOnceItAnswers() throws Exception {
        int port = TestRedis.freePorts(1)[0];
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        long start = System.nanoTime();
        try (Redis redis = Redis.connect(sharedVia("{cluster: {nodes: ['127.0.0.1:" + port + "']}}"), registry)) {
            assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(2), "started without it");
            assertThrows(Redis.Unavailable.class, () -> redis.call(c -> c.get("k")));
            assertEquals(0.0, registry.get("gatehouse.shared.redis.up").gauge().value());
            try (TestRedisCluster cluster = TestRedisCluster.start(dir, List.of(port))) {
                Thread.sleep(1_100); // past the pause after a failure
                redis.call(c -> c.set("k", "v"));
                assertEquals("v", redis.call(c -> c.get("k")));
                assertEquals(1.0, registry.get("gatehouse.shared.redis.up").gauge().value());
            }
        }
    }
}
