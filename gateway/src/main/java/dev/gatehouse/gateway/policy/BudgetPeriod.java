package dev.gatehouse.gateway.policy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How often a key's budget starts over, as LiteLLM writes it: {@code 30s}, {@code 15m}, {@code 12h},
 * {@code 30d}, {@code 2w} or {@code 1mo} (calendar months). Periods run back to back from the key's
 * creation, so a key made on the 5th with {@code 1mo} resets on the 5th of every month.
 */
public record BudgetPeriod(int amount, String unit) {
    private static final Pattern FORMAT = Pattern.compile("([1-9][0-9]{0,5})(s|m|h|d|w|mo)");

    public static BudgetPeriod parse(String text) {
        Matcher m = FORMAT.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("budget period '" + text
                    + "' must be a number and a unit: s, m, h, d, w or mo (e.g. 30d, 1mo)");
        }
        return new BudgetPeriod(Integer.parseInt(m.group(1)), m.group(2));
    }

    /** The start of the period that holds {@code now}, counting periods from {@code origin}. */
    public Instant start(Instant origin, Instant now) {
        return boundary(origin, index(origin, now));
    }

    /** When the period that holds {@code now} ends and the budget starts over. */
    public Instant end(Instant origin, Instant now) {
        return boundary(origin, index(origin, now) + 1);
    }

    /** Which period, counting from 0 at {@code origin}, holds {@code now}. */
    private long index(Instant origin, Instant now) {
        if (now.isBefore(origin)) {
            return 0;
        }
        if (unit.equals("mo")) {
            long k = 0;
            // at most a few hundred steps for a key decades old; plusMonths keeps the day-of-month rule right
            while (!boundary(origin, k + 1).isAfter(now)) {
                k++;
            }
            return k;
        }
        return (now.toEpochMilli() - origin.toEpochMilli()) / length().toMillis();
    }

    private Instant boundary(Instant origin, long k) {
        if (unit.equals("mo")) {
            return origin.atZone(ZoneOffset.UTC).plusMonths(k * amount).toInstant();
        }
        return origin.plusMillis(k * length().toMillis());
    }

    private Duration length() {
        return switch (unit) {
            case "s" -> Duration.ofSeconds(amount);
            case "m" -> Duration.ofMinutes(amount);
            case "h" -> Duration.ofHours(amount);
            case "d" -> Duration.ofDays(amount);
            case "w" -> Duration.ofDays(7L * amount);
            default -> throw new IllegalStateException(unit);
        };
    }

    @Override
    public String toString() {
        return amount + unit;
    }
}
