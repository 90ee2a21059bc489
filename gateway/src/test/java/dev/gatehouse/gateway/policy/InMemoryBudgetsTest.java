package dev.gatehouse.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/** Reservations against a key's budget, and two servers on one store seeing each other's spend after {@link InMemoryBudgets#REREAD}. */
class InMemoryBudgetsTest {
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

    /** What a server does for one request: reserve, settle to the cost, then log the row (on disk a moment later). */
    private void spend(Budgets budgets, UsageLog log, double dollars) throws InterruptedException {
        budgets.reserve(KEY, () -> dollars).settle(dollars);
        log.record(new UsageRecord(now.get(), "/v1/chat/completions", KEY.id(), null, "m", "openai:m", 1, 1, dollars,
                1, 200, "", false, null));
        log.flush();
    }

    /** Rereads run in the background: asking starts one, then the answer changes once it is done. */
    private static void awaitSpent(Budgets budgets, double expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (budgets.spent(KEY) != expected) {
            if (System.nanoTime() > deadline) {
                assertEquals(expected, budgets.spent(KEY), "not read within 10 s");
            }
            Thread.sleep(10);
        }
    }

    private Budgets budgets(UsageLog log) {
        return new InMemoryBudgets(log, clock, Duration.ofSeconds(5));
    }

    @Test
    void serversSharingAStoreSeeEachOthersSpendAfterTheRereadInterval() throws Exception {
        Path db = dir.resolve("shared.db");
        try (UsageLog logA = UsageLog.open(db); UsageLog logB = UsageLog.open(db);
             Budgets a = budgets(logA); Budgets b = budgets(logB)) {
            spend(a, logA, 6);
            assertEquals(6, b.spent(KEY), "B reads $6 from the store when it first sees the key");
            spend(a, logA, 4);
            assertEquals(10, a.spent(KEY), "server A counts its own spend at once");
            assertThrows(ApiException.class, () -> a.reserve(KEY, () -> 0));
            b.reserve(KEY, () -> 1).release(); // B's copy is still fresh
            now.set(now.get().plus(InMemoryBudgets.REREAD).plusSeconds(1));
            awaitSpent(b, 10);
            ApiException refused = assertThrows(ApiException.class, () -> b.reserve(KEY, () -> 0));
            assertEquals("insufficient_quota", refused.code());
        }
    }

    @Test
    void whenTheStoreCannotBeReadSpendGoesOnInMemory() throws Exception {
        UsageLog log = UsageLog.open(dir.resolve("down.db"));
        try (Budgets budgets = budgets(log)) {
            spend(budgets, log, 4);
            log.close(); // every read of the store fails from now on, as with PostgreSQL down
            now.set(now.get().plus(InMemoryBudgets.REREAD).plusSeconds(1));
            assertEquals(4, budgets.spent(KEY), "no error, and nothing forgotten");
            budgets.reserve(KEY, () -> 6).settle(6);
            Thread.sleep(200); // the failed reread is over
            assertEquals(10, budgets.spent(KEY));
            assertThrows(ApiException.class, () -> budgets.reserve(KEY, () -> 0));
        }
    }

    @Test
    void aRereadNeverLowersTheSpendCountedHere() throws Exception {
        try (UsageLog log = UsageLog.open(dir.resolve("lost.db")); Budgets budgets = budgets(log)) {
            spend(budgets, log, 2);
            budgets.reserve(KEY, () -> 5).settle(5); // its usage row never reached the store (a full queue dropped it)
            now.set(now.get().plus(InMemoryBudgets.REREAD).plusSeconds(1));
            budgets.spent(KEY); // starts a reread, which finds $2
            Thread.sleep(300);
            assertEquals(7, budgets.spent(KEY));
        }
    }

    @Test
    void requestsInFlightHoldTheMostTheyCanCostUntilTheyEnd() {
        try (Budgets budgets = budgets(null)) {
            Budgets.Reservation first = budgets.reserve(KEY, () -> 3);
            Budgets.Reservation second = budgets.reserve(KEY, () -> 3);
            Budgets.Reservation third = budgets.reserve(KEY, () -> 3);
            ApiException refused = assertThrows(ApiException.class, () -> budgets.reserve(KEY, () -> 3));
            assertEquals(429, refused.status());
            assertTrue(refused.getMessage().contains("may cost up to $3.000000"), refused.getMessage());
            assertTrue(refused.getMessage().contains("$1.000000 left"), refused.getMessage());
            first.settle(0.5); // it cost less than it held: the rest is free again
            first.settle(3); // settled once only
            assertEquals(0.5, budgets.spent(KEY));
            budgets.reserve(KEY, () -> 3); // 0.5 spent + 6 + 3 held = 9.5
            second.release(); // ended without a known cost (never recorded): held money is let go, not leaked
            third.settle(3);
            assertEquals(3.5, budgets.spent(KEY));
            budgets.reserve(KEY, () -> 3.5); // 3.5 spent + 3 + 3.5 held = 10: exactly the budget
            assertThrows(ApiException.class, () -> budgets.reserve(KEY, () -> 0), "nothing left");
        }
    }

    @Test
    void withoutALogSpendIsKeptInMemoryAndNeverReset() {
        try (Budgets budgets = budgets(null)) {
            budgets.reserve(KEY, () -> 7).settle(7);
            now.set(now.get().plus(Duration.ofMinutes(1)));
            assertEquals(7, budgets.spent(KEY));
        }
    }

    @Test
    void aKeyWithoutABudgetHoldsNothingAndIsNeverPriced() {
        KeyStore.Key free = new KeyStore.Key("key_free", new KeyStore.Spec("free", List.of(), null, null, null, null, null, null), T0);
        try (Budgets budgets = budgets(null)) {
            assertEquals(Budgets.Reservation.NONE, budgets.reserve(free, () -> {
                throw new AssertionError("a key without a budget is never priced");
            }));
        }
    }
}
