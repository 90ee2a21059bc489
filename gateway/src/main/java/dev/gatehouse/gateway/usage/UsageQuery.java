package dev.gatehouse.gateway.usage;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * A usage summary's window and grouping, as {@code GET /admin/usage} and {@code gatehouse usage}
 * take them: {@code from} and {@code to} as ISO-8601 instants or UTC dates ({@code to} exclusive;
 * defaults: everything up to now), {@code group-by} key, user, model, backend or rule (default key).
 */
public record UsageQuery(Instant from, Instant to, UsageLog.GroupBy groupBy) {

    /** Any argument may be null for its default; a bad one is an IllegalArgumentException that says why. */
    public static UsageQuery parse(String from, String to, String groupBy, Instant now) {
        Instant start = from == null ? Instant.EPOCH : instant("from", from);
        Instant end = to == null ? now.plusMillis(1) : instant("to", to);
        if (!end.isAfter(start)) {
            throw new IllegalArgumentException("'to' (" + end + ") must be after 'from' (" + start + ")");
        }
        UsageLog.GroupBy by;
        try {
            by = groupBy == null ? UsageLog.GroupBy.KEY : UsageLog.GroupBy.valueOf(groupBy.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'group-by' must be key, user, model, backend or rule, not '" + groupBy + "'");
        }
        return new UsageQuery(start, end, by);
    }

    private static Instant instant(String name, String text) {
        try {
            return text.length() == 10 ? LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant() : Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + name + "' must be a date (2026-12-01) or an instant "
                    + "(2026-12-01T10:00:00Z), not '" + text + "'");
        }
    }
}
