package dev.gatehouse.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecord;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two servers on one store: each sees the other's spend once its copy is older than {@link Budgets#REREAD}. */
class BudgetsTest {
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final KeyStore.Key KEY = new KeyStore.Key("key_shared",
            new KeyStore.Spec("shared", List.of(), null, null, null, 10.0, "30d", null), T0);

    @TempDir
    Path dir;

    private final AtomicReference<Instant> now = new AtomicReference<>(T0.plusSeconds(60));
    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }
    };

    /** What a server does when a request ends: the budget first, then the usage row (on disk a moment later). */
    private void spend(Budgets budgets, UsageLog log, double dollars) throws InterruptedException {
        budgets.add(KEY, dollars);
        log.record(new UsageRecord(now.get(), "/v1/chat/completions", KEY.id(), null, "m", "openai:m", 1, 1, dollars,
                1, 200, "", false));
        log.flush();
    }

    @Test
    void serversSharingAStoreSeeEachOthersSpendAfterTheRereadInterval() throws Exception {
        Path db = dir.resolve("shared.db");
        try (UsageLog logA = UsageLog.open(db); UsageLog logB = UsageLog.open(db)) {
            Budgets a = new Budgets(logA, clock);
            Budgets b = new Budgets(logB, clock);
            spend(a, logA, 6);
            b.check(KEY); // reads $6 from the store: under the $10 budget
            assertEquals(6, b.spent(KEY));
            spend(a, logA, 5);
            assertEquals(11, a.spent(KEY), "server A counts its own spend at once");
            assertThrows(ApiException.class, () -> a.check(KEY));
            b.check(KEY); // B's copy is still fresh
            now.set(now.get().plus(Budgets.REREAD).plusSeconds(1));
            ApiException refused = assertThrows(ApiException.class, () -> b.check(KEY));
            assertEquals("insufficient_quota", refused.code());
            assertEquals(11, b.spent(KEY));
        }
    }

    @Test
    void whenTheStoreCannotBeReadSpendGoesOnInMemory() throws Exception {
        UsageLog log = UsageLog.open(dir.resolve("down.db"));
        Budgets budgets = new Budgets(log, clock);
        spend(budgets, log, 4);
        log.close(); // every read of the store fails from now on, as with PostgreSQL down
        now.set(now.get().plus(Budgets.REREAD).plusSeconds(1));
        assertEquals(4, budgets.spent(KEY), "no error, and nothing forgotten");
        budgets.add(KEY, 7);
        assertThrows(ApiException.class, () -> budgets.check(KEY));
    }

    @Test
    void withoutALogSpendIsKeptInMemoryAndNeverReset() {
        Budgets budgets = new Budgets(null, clock);
        budgets.add(KEY, 7);
        now.set(now.get().plus(Duration.ofMinutes(1)));
        assertEquals(7, budgets.spent(KEY));
    }
}
