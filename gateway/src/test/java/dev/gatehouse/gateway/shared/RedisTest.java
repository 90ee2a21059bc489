package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.SharedConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connecting as gatehouse.yaml says: a password in the URL (as deploy/kubernetes writes it) and a database index. */
class RedisTest {
    @TempDir
    Path dir;

    private static SharedConfig shared(String url) {
        return GatehouseConfig.parse("shared: {redis-url: '" + url + "', key-prefix: 't:'}", Map.of()).shared();
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
}
