package dev.gatehouse.gateway.policy;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.UsageLog;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.logging.Logger;

/**
 * Each key's spend against its {@code max-budget-usd}, per {@code budget-period} (none: since the
 * key was made). Spend is counted in memory and read back from the usage log when a key is first
 * seen, when its period turns over, and every {@link #REREAD} besides: a restart keeps what was
 * spent, and servers sharing one PostgreSQL store see each other's spend within that time.
 */
public final class Budgets {
    private static final Logger LOG = Logger.getLogger(Budgets.class.getName());
    /** How stale a key's spend may get before the log is read again. */
    static final Duration REREAD = Duration.ofSeconds(5);

    private record Spend(Instant periodStart, Instant readAt, DoubleAdder dollars) {}

    private final UsageLog log;
    private final Clock clock;
    private final Map<String, Spend> spend = new ConcurrentHashMap<>();

    /** {@code log} null keeps spend in memory only (tests, or a server without a store). */
    public Budgets(UsageLog log, Clock clock) {
        this.log = log;
        this.clock = clock;
    }

    /** 429 {@code insufficient_quota} once the key's period spend has reached its budget. */
    public void check(KeyStore.Key key) {
        if (key == null || key.spec().maxBudgetUsd() == null) {
            return;
        }
        double max = key.spec().maxBudgetUsd();
        double spent = current(key).dollars().sum();
        if (spent >= max) {
            Instant now = clock.instant();
            String period = key.spec().budgetPeriod();
            Integer retryAfter = null;
            String when = "; it has no budget period, so raise max-budget-usd to continue";
            if (period != null) {
                Instant reset = BudgetPeriod.parse(period).end(key.createdAt(), now);
                retryAfter = (int) Math.min(Integer.MAX_VALUE, Math.max(1, Duration.between(now, reset).toSeconds()));
                when = "; it resets at " + reset;
            }
            throw new ApiException(429, "insufficient_quota", "insufficient_quota", null,
                    String.format("You exceeded your current quota: this key has spent $%.6f of its $%.6f budget%s.",
                            spent, max, when), retryAfter);
        }
    }

    /** Adds a finished request's cost; call before the usage row is logged (see {@link #current}). */
    public void add(KeyStore.Key key, double costUsd) {
        if (key != null && key.spec().maxBudgetUsd() != null && costUsd > 0) {
            current(key).dollars().add(costUsd);
        }
    }

    /** What the key has spent in its current period. */
    public double spent(KeyStore.Key key) {
        return current(key).dollars().sum();
    }

    /**
     * The key's spend in the period holding now; read from the log (after a flush, so this server's
     * own rows are in it) when the key is new here, its period has turned over or the last read is
     * older than {@link #REREAD}. Rows are logged after {@link #add}, so a read never counts a request
     * that is also added in memory; one added while a read runs counts from the next read. The read
     * runs outside the map's lock (it waits on the disk).
     */
    private Spend current(KeyStore.Key key) {
        Instant now = clock.instant();
        String period = key.spec().budgetPeriod();
        Instant start = period == null ? key.createdAt() : BudgetPeriod.parse(period).start(key.createdAt(), now);
        Spend known = spend.get(key.id());
        if (known != null && known.periodStart().equals(start) && (log == null || now.isBefore(known.readAt().plus(REREAD)))) {
            return known;
        }
        DoubleAdder read;
        try {
            read = loaded(key.id(), start);
        } catch (RuntimeException e) {
            if (known == null || !known.periodStart().equals(start)) {
                throw e;
            }
            // the store is down: go on counting in memory, and try it again after REREAD
            LOG.warning("cannot read the spend of key " + key.id() + " (" + e.getMessage() + "); counting in memory");
            Spend kept = new Spend(start, now, known.dollars());
            spend.put(key.id(), kept);
            return kept;
        }
        Spend fresh = new Spend(start, now, read);
        // two threads reading at once: the first read stays (a request added since is not lost)
        return spend.merge(key.id(), fresh, (old, latest) -> old.periodStart().equals(start)
                && !old.readAt().isBefore(now) ? old : latest);
    }

    private DoubleAdder loaded(String keyId, Instant since) {
        DoubleAdder d = new DoubleAdder();
        if (log != null) {
            try {
                log.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            d.add(log.spent(keyId, since));
        }
        return d;
    }
}
