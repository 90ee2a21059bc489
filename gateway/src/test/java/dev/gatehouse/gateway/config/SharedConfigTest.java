package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SharedConfigTest {
    @Test
    void nothingIsSharedWithoutTheSection() {
        assertNull(GatehouseConfig.empty().shared());
        assertNull(GatehouseConfig.parse("models: []", Map.of()).shared());
    }

    @Test
    void defaultsFallBackToEachInstanceWithAShortTimeout() {
        SharedConfig s = GatehouseConfig.parse("shared: {redis-url: redis://redis:6379}", Map.of()).shared();
        assertEquals(new SharedConfig(new SharedConfig.Single("redis://redis:6379"), SharedConfig.OnRedisDown.LOCAL,
                Duration.ofMillis(250), "gatehouse:", Duration.ofSeconds(60)), s);
    }

    @Test
    void everySettingAndThePasswordFromTheEnvironmentNeverShown() {
        SharedConfig s = GatehouseConfig.parse("""
                shared:
                  redis-url: rediss://gatehouse:${REDIS_PASSWORD}@redis.internal:6380/2
                  on-redis-down: closed
                  timeout-ms: 100
                  key-prefix: "prod:"
                  lease-seconds: 15
                """, Map.of("REDIS_PASSWORD", "hunter2-secret")).shared();
        assertEquals(new SharedConfig.Single("rediss://gatehouse:hunter2-secret@redis.internal:6380/2"), s.servers());
        assertEquals(Duration.ofSeconds(15), s.lease());
        assertEquals(SharedConfig.OnRedisDown.CLOSED, s.onRedisDown());
        assertEquals(Duration.ofMillis(100), s.timeout());
        assertEquals("prod:", s.keyPrefix());
        assertEquals("rediss://redis.internal:6380/2", s.describe());
        assertFalse(s.toString().contains("hunter2"), s.toString());
    }

    @Test
    void aSentinelSetWithItsPasswordsFromTheEnvironmentNeverShown() {
        SharedConfig s = GatehouseConfig.parse("""
                shared:
                  sentinel:
                    master: mymaster
                    nodes: [sentinel-0:26379, "${SENTINEL_HOST}:26379"]
                    password: ${REDIS_PASSWORD}
                    sentinel-password: ${SENTINEL_PASSWORD}
                """, Map.of("SENTINEL_HOST", "10.0.0.2", "REDIS_PASSWORD", "hunter2-secret", "SENTINEL_PASSWORD", "s3nt-secret")).shared();
        assertEquals(new SharedConfig.Sentinel("mymaster", List.of("sentinel-0:26379", "10.0.0.2:26379"),
                new SharedConfig.Login(null, "hunter2-secret", false), "s3nt-secret"), s.servers());
        assertEquals("sentinel master mymaster via sentinel-0:26379,10.0.0.2:26379", s.describe());
        assertFalse(s.toString().contains("secret"), s.toString());
        assertFalse(s.servers().toString().contains("secret"), s.servers().toString());
    }

    @Test
    void aClusterOverTls() {
        SharedConfig s = GatehouseConfig.parse("""
                shared:
                  cluster: {nodes: ["redis-0:6379", "redis-1:6379"], username: gatehouse, password: pw-secret, tls: true}
                """, Map.of()).shared();
        assertEquals(new SharedConfig.Cluster(List.of("redis-0:6379", "redis-1:6379"), new SharedConfig.Login("gatehouse", "pw-secret", true)),
                s.servers());
        assertEquals("cluster redis-0:6379,redis-1:6379", s.describe());
        assertFalse(s.servers().toString().contains("pw-secret"), s.servers().toString());
    }

    @Test
    void mistakesAreErrors() {
        for (String[] c : new String[][]{
                {"shared: {}", "redis-url"},
                {"shared: {redis-url: redis://r, cluster: {nodes: [r:6379]}}", "exactly one of"},
                {"shared: {sentinel: {nodes: [s:26379]}}", "'master' is required"},
                {"shared: {sentinel: {master: m, nodes: []}}", "list of host:port"},
                {"shared: {sentinel: {master: m, nodes: [s]}}", "'s' is not"},
                {"shared: {cluster: {nodes: [r:99999]}}", "'r:99999' is not"},
                {"shared: {cluster: {nodes: [r:6379], tls: 1}}", "true or false"},
                {"shared: {cluster: {nodes: [r:6379], master: m}}", "unknown key 'master'"},
                {"shared: {redis-url: redis://r, key-prefix: 'a{b}:'}", "{ or }"},
                {"shared: {redis-url: redis://r, lease-seconds: 0}", "lease-seconds"},
                {"shared: {redis-url: http://redis:6379}", "redis://"},
                {"shared: {redis-url: 'redis://'}", "redis://"},
                {"shared: {redis-url: redis://r, on-redis-down: open}", "not local or closed"},
                {"shared: {redis-url: redis://r, timeout-ms: 0}", "timeout-ms"},
                {"shared: {redis-url: redis://r, timeout: 5}", "unknown key 'timeout'"},
                {"shared: {redis-url: '${NOPE}'}", "NOPE"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> GatehouseConfig.parse(c[0], Map.of()), c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }
}
