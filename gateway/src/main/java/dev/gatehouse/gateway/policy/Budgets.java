package dev.gatehouse.gateway.policy;

import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.store.KeyStore;

import java.time.Duration;
import java.time.Instant;
import java.util.function.DoubleSupplier;

/**
 * Each key's money against its {@code max-budget-usd}, per {@code budget-period} (none: since the key
 * was made). A request is admitted only when the most it can cost ({@link CostCeiling}) fits in what
 * is left: that amount is reserved until the request ends and is then replaced by what it really
 * cost, so requests running at once cannot together spend past the budget.
 * {@link InMemoryBudgets} holds the reservations of this instance; {@code shared.RedisBudgets} those
 * of every instance sharing one Redis.
 */
public interface Budgets extends AutoCloseable {
    /**
     * Reserves the most the request can cost ({@code ceiling}, asked only of keys with a budget: it
     * refuses models without a price) or throws the 429 {@code insufficient_quota} that says why not.
     */
    Reservation reserve(KeyStore.Key key, DoubleSupplier ceiling);

    /** What the key has spent in its current period (not counting requests in flight). */
    double spent(KeyStore.Key key);

    @Override
    void close();

    /** What one request holds of its key's budget until it ends. */
    interface Reservation {
        /** For callers without a budget: nothing held, nothing to settle. */
        Reservation NONE = cost -> { };

        /** Replaces what was held with what the request cost; only the first call counts. */
        void settle(double costUsd);

        /** Lets go of what is held if {@link #settle} was never called (the request's cost never became known). */
        default void release() {
            settle(0);
        }
    }

    /** The start of the key's current budget period (its creation when it has none). */
    static Instant periodStart(KeyStore.Key key, Instant now) {
        String period = key.spec().budgetPeriod();
        return period == null ? key.createdAt() : BudgetPeriod.parse(period).start(key.createdAt(), now);
    }

    /**
     * The 429 for a request that does not fit: {@code spent} settled and {@code reserved} held by
     * requests in flight, against the key's budget, {@code most} being what this one may cost.
     */
    static ApiException quotaExceeded(KeyStore.Key key, Instant now, double spent, double reserved, double most) {
        double max = key.spec().maxBudgetUsd();
        String why = spent >= max
                ? String.format("this key has spent $%.6f of its $%.6f budget", spent, max)
                : String.format("this request may cost up to $%.6f and this key has $%.6f left of its $%.6f budget"
                        + " ($%.6f spent, $%.6f held by requests in flight); a lower max_tokens may fit",
                        most, Math.max(0, max - spent - reserved), max, spent, reserved);
        String period = key.spec().budgetPeriod();
        Integer retryAfter = null;
        String when = "; it has no budget period, so raise max-budget-usd to continue";
        if (period != null) {
            Instant reset = BudgetPeriod.parse(period).end(key.createdAt(), now);
            retryAfter = (int) Math.min(Integer.MAX_VALUE, Math.max(1, Duration.between(now, reset).toSeconds()));
            when = "; it resets at " + reset;
        }
        return new ApiException(429, "insufficient_quota", "insufficient_quota", null,
                "You exceeded your current quota: " + why + when + ".", retryAfter);
    }
}
