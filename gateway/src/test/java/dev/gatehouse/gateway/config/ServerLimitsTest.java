package dev.gatehouse.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServerLimitsTest {
    @Test
    void defaultsWithoutTheSection() {
        ServerLimits limits = GatehouseConfig.parse("models: []\n", Map.of()).server();
        assertEquals(ServerLimits.DEFAULTS, limits);
        assertEquals(Duration.ofSeconds(60), limits.writeTimeout());
        assertEquals(Duration.ofSeconds(30), limits.headerTimeout());
        assertEquals(2048, limits.maxConnections());
        assertEquals(1024, limits.maxRequests());
    }

    @Test
    void readsEveryKeyAndKeepsDefaultsForTheRest() {
        ServerLimits limits = GatehouseConfig.parse("""
                server:
                  write-timeout-seconds: 5
                  header-timeout-seconds: 2
                  body-timeout-seconds: 7
                  idle-timeout-seconds: 9
                  max-connections: 100
                """, Map.of()).server();
        assertEquals(new ServerLimits(Duration.ofSeconds(9), Duration.ofSeconds(2), Duration.ofSeconds(7),
                Duration.ofSeconds(5), 100, 1024, 20), limits);
    }

    @Test
    void refusesNonsenseNamingTheKey() {
        ConfigException zero = assertThrows(ConfigException.class,
                () -> GatehouseConfig.parse("server:\n  write-timeout-seconds: 0\n", Map.of()));
        assertTrue(zero.getMessage().contains("server.write-timeout-seconds"), zero.getMessage());
        ConfigException typo = assertThrows(ConfigException.class,
                () -> GatehouseConfig.parse("server:\n  write-timeout: 5\n", Map.of()));
        assertTrue(typo.getMessage().contains("write-timeout"), typo.getMessage());
    }
}
