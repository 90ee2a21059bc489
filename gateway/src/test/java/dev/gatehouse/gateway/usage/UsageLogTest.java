package dev.gatehouse.gateway.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gatehouse.gateway.store.Database;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** On the embedded SQLite file; {@link UsageLogPostgresTest} runs the same tests on PostgreSQL. */
class UsageLogTest {
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");

    @TempDir
    Path dir;

    /** The store under test: the same database every time it is called within one test. */
    Database database() throws Exception {
        return Database.sqlite(dir.resolve("g.db"));
    }

    static UsageRecord row(Instant at, String key, String model, String backend, long prompt, long completion,
                                   double cost, int status) {
        return new UsageRecord(at, "/v1/chat/completions", key, "alice", model, backend, prompt, completion, cost, 12,
                status, "", false);
    }

    @Test
    void summarisesByKeyModelAndBackendWithinTheWindow() throws Exception {
        try (UsageLog log = UsageLog.open(database())) {
            log.record(row(T0, "key_a", "chat", "local:tiny", 10, 5, 0.5, 200));
            log.record(row(T0.plusSeconds(1), "key_a", "chat", "openai:gpt-4o-mini", 20, 10, 1.5, 200));
            log.record(row(T0.plusSeconds(2), "key_b", "chat", "local:tiny", 1, 0, 0, 429));
            log.record(row(T0.plusSeconds(3600), "key_b", "other", "local:tiny", 100, 100, 9, 200)); // outside
            log.record(row(T0.plusSeconds(4), null, "chat", "local:tiny", 0, 0, 0, 401)); // no key
            log.flush();
            Instant to = T0.plusSeconds(60);

            List<UsageLog.Summary> byKey = log.summary(T0, to, UsageLog.GroupBy.KEY);
            assertEquals(List.of(new UsageLog.Summary("key_a", 2, 0, 30, 15, 2.0, 12),
                    new UsageLog.Summary(null, 1, 1, 0, 0, 0, 12),
                    new UsageLog.Summary("key_b", 1, 1, 1, 0, 0, 12)), byKey);
            assertEquals(List.of("openai:gpt-4o-mini", "local:tiny"),
                    log.summary(T0, to, UsageLog.GroupBy.BACKEND).stream().map(UsageLog.Summary::group).toList());
            assertEquals(4, log.summary(T0, to, UsageLog.GroupBy.MODEL).getFirst().requests());
            assertEquals(2.0, log.spent("key_a", T0));
            assertEquals(1.5, log.spent("key_a", T0.plusSeconds(1)));
            assertEquals(9.0, log.spent("key_b", T0));
        }
    }

    @Test
    void closeWritesEveryQueuedRowFromManyThreads() throws Exception {
        UsageLog log = UsageLog.open(database());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 5_000; i++) {
                int n = i;
                pool.submit(() -> log.record(row(T0.plusMillis(n), "key_" + (n % 7), "chat", "local:tiny", 1, 1, 0.001, 200)));
            }
        }
        log.close(); // no flush: close alone must write them all
        try (UsageLog reopened = UsageLog.open(database())) {
            long total = reopened.summary(T0, T0.plusSeconds(3600), UsageLog.GroupBy.KEY).stream()
                    .mapToLong(UsageLog.Summary::requests).sum();
            assertEquals(5_000, total);
        }
    }
}
