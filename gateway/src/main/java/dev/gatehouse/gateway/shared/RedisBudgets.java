package dev.gatehouse.gateway.shared;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.policy.BudgetPeriod;
import dev.gatehouse.gateway.policy.Budgets;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.UsageLog;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * {@link Budgets} shared by every instance through Redis: each key's spend in its current period and
 * the reservations of requests in flight, checked and reserved in one script (budget-reserve.lua), so
 * instances together never reserve past a budget. An account Redis does not have (a new period, a
 * restarted or evicting Redis) starts from the usage log, as {@code InMemoryBudgets} does. While
 * Redis is down, {@code local} counts for this instance alone (or the request is refused, with
 * {@code on-redis-down: closed}).
 */
public final class RedisBudgets implements Budgets {
    /** How long an account outlives its period: a request that ends just after the turnover finds the new one. */
    private static final Duration AFTER_PERIOD = Duration.ofDays(1);

    private final Redis redis;
    private final UsageLog log;
    private final Clock clock;
    private final Budgets local;
    private final Redis.Script reserve = Redis.Script.load("budget-reserve");
    private final Redis.Script seed = Redis.Script.load("budget-seed");
    private final Redis.Script settle = Redis.Script.load("budget-settle");

    /** {@code log} null: spend starts at 0 (nothing to read); {@code local} is used while Redis is down. */
    public RedisBudgets(Redis redis, UsageLog log, Clock clock, Budgets local) {
        this.redis = redis;
        this.log = log;
        this.clock = clock;
        this.local = local;
    }

    @Override
    public Reservation reserve(KeyStore.Key key, DoubleSupplier ceiling) {
        if (key == null || key.spec().maxBudgetUsd() == null) {
            return Reservation.NONE;
        }
        double most = ceiling.getAsDouble(); // its 400 or 403 comes first, whatever Redis does
        return redis.orLocal(() -> shared(key, most), () -> local.reserve(key, () -> most));
    }

    private Reservation shared(KeyStore.Key key, double most) {
        String id = redis.newId();
        List<String> keys = List.of(account(key, clock.instant()), held(key), heldUsd(key));
        for (int attempt = 0; ; attempt++) {
            Instant now = clock.instant();
            List<?> r = (List<?>) redis.eval(reserve, keys, List.of(dollars(key.spec().maxBudgetUsd()), dollars(most), id,
                    redis.leases().millis()));
            String outcome = (String) r.get(0);
            if (outcome.equals("seed") && attempt == 0) {
                seed(key, now);
                continue;
            }
            if (outcome.equals("ok")) {
                redis.leases().hold(id, held(key), heldUsd(key));
                return new Held(key, id);
            }
            if (outcome.equals("refused")) {
                throw Budgets.quotaExceeded(key, now, Double.parseDouble((String) r.get(1)), Double.parseDouble((String) r.get(2)), most);
            }
            throw new Redis.Unavailable("budget-reserve answered " + outcome); // seeded, yet gone: an evicting Redis under pressure
        }
    }

    /** One request's reservation; settled into the account of the period the request ends in. */
    private final class Held implements Reservation {
        private final KeyStore.Key key;
        private final String id;
        private boolean settled;

        Held(KeyStore.Key key, String id) {
            this.key = key;
            this.id = id;
        }

        @Override
        public synchronized void settle(double costUsd) {
            if (settled) {
                return;
            }
            settled = true;
            redis.leases().release(id);
            try {
                redis.eval(settle, List.of(account(key, clock.instant()), held(key), heldUsd(key)), List.of(id, dollars(costUsd)));
            } catch (Redis.Unavailable e) {
                // the lease ends (shared.lease-seconds); the cost is in the usage log, read when the account is seeded again
            }
        }
    }

    @Override
    public double spent(KeyStore.Key key) {
        return redis.orElse(() -> {
            Instant now = clock.instant();
            String spent = redis.call(c -> c.hget(account(key, now), "spent"));
            return spent != null ? Double.parseDouble(spent) : seed(key, now);
        }, () -> local.spent(key));
    }

    /** Reads the key's spend in its period from the usage log into Redis (unless another instance did first); what Redis then holds. */
    private double seed(KeyStore.Key key, Instant now) {
        Instant start = Budgets.periodStart(key, now);
        double read = 0;
        if (log != null) {
            try {
                log.flush(log.timeout()); // this instance's own rows first, so the sum holds them
                read = log.spent(key.id(), start);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw storeUnavailable();
            } catch (RuntimeException e) {
                throw storeUnavailable();
            }
        }
        String period = key.spec().budgetPeriod();
        long ttl = period == null ? 0 : Duration.between(now, BudgetPeriod.parse(period).end(key.createdAt(), now)).plus(AFTER_PERIOD).toMillis();
        String spent = (String) redis.eval(seed, List.of(account(key, now)), List.of(dollars(read), String.valueOf(ttl)));
        return Double.parseDouble(spent);
    }

    private static ApiException storeUnavailable() {
        return new ApiException(503, "server_error", "store_unavailable", null,
                "This key's spend cannot be read from the store now, so its budget cannot be checked; retry shortly.", 5);
    }

    /** The key's account in the period holding {@code now}. */
    private String account(KeyStore.Key key, Instant now) {
        return redis.key(key.id(), "budget:" + Budgets.periodStart(key, now).toEpochMilli());
    }

    private String held(KeyStore.Key key) {
        return redis.key(key.id(), "budget-held");
    }

    private String heldUsd(KeyStore.Key key) {
        return redis.key(key.id(), "budget-held-usd");
    }

    /** Dollars as Redis reads them: plain digits, never 1.0E-5. */
    private static String dollars(double usd) {
        return BigDecimal.valueOf(usd).toPlainString();
    }

    @Override
    public void close() {
        local.close();
    }
}
