package dev.gatehouse.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class BudgetPeriodTest {
    private static final Instant CREATED = Instant.parse("2026-01-31T10:00:00Z");

    @Test
    void daysRunBackToBackFromTheKeysCreation() {
        BudgetPeriod p = BudgetPeriod.parse("30d");
        assertEquals(CREATED, p.start(CREATED, CREATED));
        assertEquals(CREATED, p.start(CREATED, Instant.parse("2026-03-02T09:59:59Z")));
        assertEquals(Instant.parse("2026-03-02T10:00:00Z"), p.start(CREATED, Instant.parse("2026-03-02T10:00:00Z")));
        assertEquals(Instant.parse("2026-04-01T10:00:00Z"), p.end(CREATED, Instant.parse("2026-03-02T10:00:00Z")));
    }

    @Test
    void calendarMonthsKeepTheDayOfMonthRule() {
        BudgetPeriod p = BudgetPeriod.parse("1mo");
        // Jan 31 + 1 month is Feb 28; + 2 months is Mar 31 again, counted from the origin
        assertEquals(Instant.parse("2026-02-28T10:00:00Z"), p.start(CREATED, Instant.parse("2026-03-15T00:00:00Z")));
        assertEquals(Instant.parse("2026-03-31T10:00:00Z"), p.end(CREATED, Instant.parse("2026-03-15T00:00:00Z")));
    }

    @Test
    void otherUnitsAndBadInput() {
        assertEquals(Instant.parse("2026-01-31T22:00:00Z"),
                BudgetPeriod.parse("12h").start(CREATED, Instant.parse("2026-02-01T09:00:00Z")));
        assertEquals(Instant.parse("2026-02-14T10:00:00Z"),
                BudgetPeriod.parse("2w").start(CREATED, Instant.parse("2026-02-20T00:00:00Z")));
        assertEquals("15m", BudgetPeriod.parse(" 15m ").toString());
        for (String bad : new String[]{"", "30", "d", "0d", "30 days", "-1d", "1y"}) {
            assertThrows(IllegalArgumentException.class, () -> BudgetPeriod.parse(bad), bad);
        }
    }
}
