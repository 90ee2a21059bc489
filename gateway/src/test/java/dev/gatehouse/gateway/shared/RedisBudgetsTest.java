package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.policy.Budgets;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecord;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A key's account in Redis starts from the usage log, and is read again from it when Redis lost it. */
class RedisBudgetsTest {
    private static final KeyStore.Key KEY = new KeyStore.Key("key-1",
            new KeyStore.Spec("k", List.of(), null, null, null, 10.0, null, null), Instant.parse("2026-01-01T00:00:00Z"));

    @TempDir
    Path dir;

    private TestRedis server;
    private Redis redis;
    private UsageLog log;

    @BeforeEach
    void start() throws Exception {
        server = TestRedis.start(dir);
        redis = Redis.connect(new SharedConfig(new SharedConfig.Single(server.url()), SharedConfig.OnRedisDown.LOCAL, SharedConfig.DEFAULT_TIMEOUT, "t:",
                SharedConfig.DEFAULT_LEASE),
                new SimpleMeterRegistry());
        log = UsageLog.open(dir.resolve("usage.db"));
    }

    @AfterEach
    void stop() throws Exception {
        log.close();
        redis.close();
        server.close();
    }

    private Budgets budgets() {
        return new RedisBudgets(redis, log, Clock.systemUTC(), UsageRecorder.inMemoryBudgets(log, Clock.systemUTC()));
    }

    @Test
    void spendAlreadyInTheUsageLogCountsAndSettledSpendAddsToIt() throws Exception {
        log.record(new UsageRecord(Instant.now(), "/v1/chat/completions", KEY.id(), null, "m", "openai:m", 1, 1, 7.0, 10,
                200, "", false, null));
        Budgets budgets = budgets();
        assertEquals(7.0, budgets.spent(KEY), 1e-9);

        ApiException refused = assertThrows(ApiException.class, () -> budgets.reserve(KEY, () -> 4.0));
        assertEquals(429, refused.status());
        budgets.reserve(KEY, () -> 3.0).settle(2.5);
        assertEquals(9.5, budgets.spent(KEY), 1e-9);
        assertEquals(9.5, budgets().spent(KEY), 1e-9, "another instance sees the same account");
    }
}
