package dev.gatehouse.gateway.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.store.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Assumptions;
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
                status, "", false, "chat:default");
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
    void aTrickleOfRowsIsOnDiskWithinMomentsWithoutAFlush() throws Exception {
        try (UsageLog log = UsageLog.open(database())) {
            for (int i = 0; i < 20; i++) { // a request every 5 ms: the writer lets them share transactions
                log.record(row(T0.plusMillis(i), "key_a", "chat", "local:tiny", 1, 1, 0, 200));
                Thread.sleep(5);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(2).toNanos(); // well under a second, unless the machine is busy
            long rows = 0;
            while (rows < 20 && System.nanoTime() < deadline) {
                rows = log.summary(T0, T0.plusSeconds(60), UsageLog.GroupBy.KEY).stream()
                        .mapToLong(UsageLog.Summary::requests).sum();
                Thread.sleep(10);
            }
            assertEquals(20, rows);
        }
    }

    @Test
    void aLogFromBeforeRoutingRulesGainsTheRuleColumnAndKeepsItsRows() throws Exception {
        try (Connection c = database().connect(); java.sql.Statement s = c.createStatement()) {
            c.setAutoCommit(true);
            s.execute("DROP TABLE IF EXISTS usage_log");
            s.execute("""
                    CREATE TABLE usage_log (at_ms BIGINT NOT NULL, route TEXT NOT NULL, key_id TEXT, user_name TEXT,
                      model TEXT, backend TEXT, prompt_tokens BIGINT NOT NULL, completion_tokens BIGINT NOT NULL,
                      cost_usd DOUBLE PRECISION NOT NULL, latency_ms BIGINT NOT NULL, status INTEGER NOT NULL,
                      fallbacks TEXT NOT NULL, cached INTEGER NOT NULL)""");
            s.execute("INSERT INTO usage_log VALUES (" + T0.toEpochMilli() + ", '/v1/chat/completions', 'key_old', null,"
                    + " 'chat', 'local:tiny', 1, 1, 0, 5, 200, '', 0)");
        }
        try (UsageLog log = UsageLog.open(database())) {
            log.record(new UsageRecord(T0.plusSeconds(1), "/v1/chat/completions", "key_new", null, "chat", "eu:m", 1, 1, 0,
                    5, 200, "", false, "chat:eu"));
            log.flush();
            List<UsageLog.Summary> byRule = log.summary(T0, T0.plusSeconds(60), UsageLog.GroupBy.RULE);
            assertEquals(List.of("null 1", "chat:eu 1"), byRule.stream().map(r -> r.group() + " " + r.requests()).toList(),
                    "the old row has no rule; the new one has its own");
        }
    }

    @Test
    void aBacklogOfManyTransactionsIsWrittenWholeByFlush() throws Exception {
        int rows = 3 * UsageLog.ROWS_PER_TRANSACTION * 50 + 7; // past the writer's per-wake batch too, and not a multiple
        try (UsageLog log = UsageLog.open(database())) {
            for (int i = 0; i < rows; i++) {
                log.record(row(T0.plusMillis(i), "key_" + (i % 3), "chat", "local:tiny", 1, 1, 0.001, 200));
            }
            log.flush();
            assertEquals(0, log.queuedRows());
            assertEquals(rows, log.summary(T0, T0.plusSeconds(3600), UsageLog.GroupBy.KEY).stream()
                    .mapToLong(UsageLog.Summary::requests).sum());
            assertEquals(0, log.droppedRows());
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

    @Test
    void rowsTheStoreRefusesAreWrittenWhenItTakesThemAgainAndAFullQueueDropsRowsAndSaysSo() throws Exception {
        // ten rows may wait; a writer gives up on SQLite's lock after 200 ms, and tries again
        Database database = Database.of(database().config().withUsageQueueRows(10).withTimeouts(5_000, 200));
        Assumptions.assumeFalse(database.postgres(), "SQLite's write lock stands in for a store that refuses writes");
        List<String> logged = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                logged.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger.getLogger(UsageLog.class.getName()).addHandler(handler);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (UsageLog log = UsageLog.open(database); Connection other = database.connect();
             UsageRecorder recorder = new UsageRecorder(Pricing.free(), log, Clock.systemUTC(), registry)) {
            log.record(row(T0, "key_a", "chat", "local:tiny", 1, 1, 1, 200));
            log.flush();
            other.createStatement().execute("BEGIN EXCLUSIVE"); // another process holds the write lock
            log.record(row(T0, "key_a", "chat", "local:tiny", 1, 1, 1, 200)); // the writer takes it and waits
            Thread.sleep(200);
            for (int i = 0; i < 25; i++) {
                log.record(row(T0, "key_a", "chat", "local:tiny", 1, 1, 1, 200));
            }
            assertEquals(15, log.droppedRows(), "ten rows queue up, the rest are dropped");
            assertEquals(15.0, registry.get("gatehouse.usage.rows.dropped").functionCounter().count());
            assertEquals(10.0, registry.get("gatehouse.usage.queue.rows").gauge().value());
            assertEquals(1, logged.stream().filter(m -> m.contains("queue full")).count(), "said once, not per row: " + logged);
            assertFalse(log.flush(Duration.ofMillis(1_000)), "nothing goes in while the lock is held");
            // SQLite's busy timeout counts its own sleeps, which a loaded machine stretches: wait for the writer to give up
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (logged.stream().noneMatch(m -> m.contains("cannot write 1 usage rows")) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(logged.stream().anyMatch(m -> m.contains("cannot write 1 usage rows")), "past the busy timeout: " + logged);
            other.createStatement().execute("ROLLBACK");
            assertTrue(log.flush(Duration.ofSeconds(60)), "written once the store takes rows again");
            assertEquals(12.0, log.spent("key_a", T0), "the first row, the one that was refused, and the ten queued");
            assertTrue(logged.stream().anyMatch(m -> m.contains("15 usage rows were dropped")), logged.toString());
        } finally {
            Logger.getLogger(UsageLog.class.getName()).removeHandler(handler);
        }
    }
}
